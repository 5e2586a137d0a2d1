"""The observers of this process, and the one place that calls them.

Call sites in the worker and in Kit read ``hub.active`` first, a single
attribute check: with no observer installed nothing else runs, no event
is built (benchmarks/RESULTS.md measures it). With observers, each hook
is called for each observer in pluggy's order, in the calling thread, and
an observer that raises is logged by :class:`ObserverErrors` and skipped,
so the next observer and the worker go on.

The hub calls the hook implementations itself rather than through
``manager.hook``: pluggy stops at the first implementation that raises,
which would let one broken observer silence the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

from ..records import AllCreated, Claim, Outcome, StageInfo
from ..task import Task
from . import hookspecs
from .errors import ObserverErrors
from .events import LeaseEvent, RestoreEvent, TaskEvent, WorkerEvent

if TYPE_CHECKING:
    from ..backend import Backend
    from ..settings import WorkerSettings
    from ..worker.plan import RuntimeConfig

logger = logging.getLogger("taskkit.observers")

HOOKS = tuple(name for name in vars(hookspecs) if name.startswith("taskkit_"))
"""The names of every observer hook."""

OUTCOME_HOOKS = {
    "succeeded": "taskkit_task_succeeded",
    "failed": "taskkit_task_failed",
    "retried": "taskkit_task_retried",
    "discarded": "taskkit_task_discarded",
    "released": "taskkit_task_released",
    "cancelled": "taskkit_task_cancelled",  # OutcomeKind.CANCELLED: job control
}

Call = tuple[str, Callable[..., Any], bool]
"""(observer name, hook function, whether it takes the event argument)."""


class Hub:
    """Which observers implement which hook, and the calls into them."""

    def __init__(self) -> None:
        self.active = False
        self._calls: dict[str, tuple[Call, ...]] = {}
        self._errors = ObserverErrors(logger)
        # (task id, attempt) -> monotonic start; a dict, not a thread-local, since
        # job control's watchdog decides a timed-out attempt in another thread.
        self._runs: dict[tuple[str, int], float] = {}

    # -- wiring ---------------------------------------------------------------------

    def attach(self, manager: pluggy.PluginManager) -> None:
        """Take the observer hooks of ``manager``'s plugins (at plugin load, and after changes)."""
        calls = {name: _calls_of(manager, name) for name in HOOKS}
        self._calls = {name: found for name, found in calls.items() if found}
        self.active = bool(self._calls)

    def detach(self) -> None:
        """Call no observer any more (the plugins are being reloaded)."""
        self._calls = {}
        self.active = False

    def observers(self) -> list[str]:
        """The names of the plugins implementing at least one observer hook."""
        return sorted({name for calls in self._calls.values() for name, _, _ in calls})

    def emit(self, hook: str, value: object) -> list[Any]:
        """Call ``hook`` on every observer with ``value``; the answers that are not None."""
        answers = []
        for name, function, takes_value in self._calls.get(hook, ()):
            try:
                answer = function(value) if takes_value else function()
            except Exception as exc:
                self._errors.report(name, hook, exc)
                continue
            if answer is not None:
                answers.append(answer)
        return answers

    # -- the producer side --------------------------------------------------------------

    def put_tasks(self, backend: Backend, tasks: Sequence[Task], connection: Any) -> Any:
        """``backend.put_tasks`` with the enqueue hooks around it; returns its answer."""
        tasks = [self._with_headers(task) for task in tasks]
        try:
            answer = backend.put_tasks(*tasks, connection=connection)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            for task in tasks:
                self.emit("taskkit_task_enqueue_failed", TaskEvent(task, time.time(), error=error))
            raise
        now = time.time()
        for task, created in zip(tasks, _created(answer, len(tasks)), strict=True):
            if created:
                self.emit("taskkit_task_enqueued", TaskEvent(task, now))
        return answer

    def _with_headers(self, task: Task) -> Task:
        extra: dict[str, str] = {}
        for headers in self.emit("taskkit_task_enqueuing", task):
            extra.update(headers)
        if not extra:
            return task
        return replace(task, headers={**task.headers, **extra})

    # -- one attempt, on the worker side -------------------------------------------------

    # Events are built only for hooks some observer implements.

    def claimed(self, claims: Iterable[Claim]) -> None:
        """A claimer took these claims (called before they reach a worker thread)."""
        if "taskkit_task_claimed" in self._calls:
            now = time.time()
            for claim in claims:
                self.emit("taskkit_task_claimed", _event(claim, now))

    def started(self, claim: Claim) -> None:
        """The worker thread is about to run ``claim``'s task."""
        task = claim.task
        self._runs[task.id, claim.attempt] = time.monotonic()
        if "taskkit_task_started" in self._calls:
            now = time.time()
            wait = max(0.0, now - max(task.due, task.created))
            self.emit("taskkit_task_started", _event(claim, now, wait))

    def finished(self, outcome: Outcome) -> None:
        """``outcome`` goes to the settler: the hook of its kind, with the run time if it ran."""
        claim = outcome.claim
        began = self._runs.pop((claim.task.id, claim.attempt), None)
        hook = OUTCOME_HOOKS[
            outcome.kind
        ]  # a StrEnum: its member is its value (enum.value is slow)
        if hook in self._calls:
            run_time = None if began is None else time.monotonic() - began
            error = outcome.message or None
            self.emit(hook, _event(claim, time.time(), None, run_time, error, outcome))

    def timed_out(self, claim: Claim, error: str) -> None:
        """The attempt of ``claim`` ran past its timeout (job control's pool calls it)."""
        self.emit("taskkit_task_timed_out", _event(claim, time.time(), None, None, error))

    def refused(self, outcome: Outcome) -> None:
        """The backend refused ``outcome``: the claim was taken over (lease lost)."""
        event = _event(outcome.claim, time.time(), None, None, None, outcome)
        self.emit("taskkit_lease_lost", event)

    # -- processes and leases -----------------------------------------------------------

    def worker_changed(self, hook: str, worker: WorkerLike) -> None:
        """A runtime started or stopped (``taskkit_worker_started`` / ``_stopped``)."""
        self.emit(hook, worker_event(worker))

    def lease_refreshed(
        self, worker_ids: Collection[str], gap: float, interval: float, ttl: float
    ) -> None:
        """The heartbeat refreshed ``worker_ids`` ``gap`` seconds after the previous refresh."""
        now = time.time()
        for worker_id in worker_ids:
            event = LeaseEvent(worker_id, gap, interval, ttl, now)
            self.emit("taskkit_lease_refreshed", event)
            if gap > ttl / 2:
                self.emit("taskkit_lease_late", event)

    def restored(self, stages: list[StageInfo]) -> None:
        """The restorer of this process put these tasks of dead workers back."""
        self.emit("taskkit_tasks_restored", RestoreEvent(stages, time.time()))


class WorkerLike(Protocol):
    """What the hub reads from a worker runtime."""

    worker_id: str
    backend: Backend
    settings: WorkerSettings
    config: RuntimeConfig


def worker_event(worker: WorkerLike) -> WorkerEvent:
    """The event of ``worker`` (host and pid from its id, ``host:pid:random``)."""
    host, _, rest = worker.worker_id.partition(":")
    pid = rest.partition(":")[0]
    return WorkerEvent(
        worker_id=worker.worker_id,
        host=host,
        pid=int(pid) if pid.isdigit() else 0,
        threads=dict(worker.config.threads_per_group),
        settings=worker.settings,
        backend=worker.backend,
        at=time.time(),
    )


def _event(
    claim: Claim,
    at: float,
    queue_wait: float | None = None,
    run_time: float | None = None,
    error: str | None = None,
    outcome: Outcome | None = None,
) -> TaskEvent:
    task, worker, attempt = claim.task, claim.worker_id, claim.attempt
    return TaskEvent(task, at, worker, attempt, queue_wait, run_time, error, outcome)


def _created(answer: Any, count: int) -> list[bool]:
    """Which puts made a task: job control's ``PutResult.created``, else all of them."""
    if isinstance(answer, AllCreated):
        return [True] * count
    if isinstance(answer, Sequence) and len(answer) == count:
        return [bool(getattr(item, "created", True)) for item in answer]
    return [True] * count


def _calls_of(manager: pluggy.PluginManager, hook: str) -> tuple[Call, ...]:
    caller = getattr(manager.hook, hook, None)
    if caller is None:
        return ()
    # pluggy calls the last registered first (tryfirst/trylast sorted in):
    # the same order here.
    impls = reversed(caller.get_hookimpls())
    return tuple((impl.plugin_name, impl.function, bool(impl.argnames)) for impl in impls)


hub = Hub()
"""The observers of this process (attached when plugins load)."""
