"""The storage contract every backend keeps, and the records it trades in.

A backend stores tasks as opaque bytes; the core owns encoding. The life of
a task in a backend:

    put_tasks ──> queued ──assign_tasks──> staged to a worker ──settle──> done
                    ^                           │                         │
                    └── retry / release / restore_abandoned ┘     discard_tasks after ttl

Every write a worker makes after claiming a task (``settle``) names its
:class:`Claim`: the task id, the worker id and the attempt number. The write
takes effect only while the task is still staged to that worker at that
attempt, so a worker that lost its claim (it was paused, cut off, or slower
than its TTL and its task was restored and claimed again) cannot overwrite
the outcome of the worker that took over. Its late write is refused and
``settle`` reports False.

Lease and expiry decisions (worker liveness, due times of retries, when a
finished task becomes disposable) use the backend's own clock where it has
one (``Capabilities.server_clock``); otherwise the core's settable clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from .clock import cur_ts
from .events import EventBridge
from .task import Task


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the runtime and the conformance kit read these.

    multi_process: workers in several processes (or hosts) can share it.
    push_wakeups: ``watch_tasks`` calls back when a task is put, so idle
        workers start it at once instead of at their next poll.
    transactional_enqueue: ``put_tasks(..., connection=...)`` joins the
        application's own database transaction.
    server_clock: leases and expiry use the server's clock, so worker clock
        skew does not matter.
    """

    multi_process: bool = True
    push_wakeups: bool = False
    transactional_enqueue: bool = False
    server_clock: bool = False

    def names(self) -> list[str]:
        """The names of the capabilities this backend has."""
        return [name for name, value in asdict(self).items() if value]


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one attempt of a task; the fencing token of its writes.

    ``attempt`` counts how many times the task was claimed (1 for the first
    claim); ``began`` is when this claim was made, on the backend's clock.
    """

    task: Task
    worker_id: str
    attempt: int
    began: float


@dataclass
class StageInfo:
    """A staged task: which worker holds it since when, at which attempt."""

    worker_id: str
    task_id: str
    began: float
    attempt: int = 0

    @classmethod
    def init(cls, worker_id: str, task: Task) -> StageInfo:
        return cls(worker_id=worker_id, task_id=task.id, began=cur_ts())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_data: str) -> StageInfo:
        return cls(**json.loads(json_data))


class OutcomeKind(StrEnum):
    """How a claimed attempt ended."""

    SUCCEEDED = "succeeded"  # store ``result``; the task is done
    FAILED = "failed"  # store ``message``; the task is done, without a result
    RETRIED = "retried"  # back to the queue, due ``delay`` s from now, retry_count + 1
    DISCARDED = "discarded"  # delete the task; no result is kept
    RELEASED = "released"  # back to the queue unchanged, attempt given back (never started)


@dataclass(frozen=True)
class Outcome:
    """The end of one claimed attempt, as handed to :meth:`Backend.settle`."""

    kind: OutcomeKind
    claim: Claim
    result: bytes = b""
    message: str = ""
    delay: float = 0.0

    @classmethod
    def succeeded(cls, claim: Claim, result: bytes) -> Outcome:
        return cls(OutcomeKind.SUCCEEDED, claim, result=result)

    @classmethod
    def failed(cls, claim: Claim, message: str) -> Outcome:
        return cls(OutcomeKind.FAILED, claim, message=message)

    @classmethod
    def retried(cls, claim: Claim, delay: float) -> Outcome:
        return cls(OutcomeKind.RETRIED, claim, delay=max(0.0, float(delay)))

    @classmethod
    def discarded(cls, claim: Claim) -> Outcome:
        return cls(OutcomeKind.DISCARDED, claim)

    @classmethod
    def released(cls, claim: Claim) -> Outcome:
        return cls(OutcomeKind.RELEASED, claim)

    def __repr__(self) -> str:
        return (
            f"Outcome({self.kind.value}, task={self.claim.task.id}, attempt={self.claim.attempt})"
        )


@dataclass(frozen=True)
class GroupStats:
    """Counts for one group, for ``taskkit status``.

    ``done`` and ``failed`` count tasks finished since the ``since`` given
    to :meth:`Backend.group_stats`; ``oldest_due`` is the due time of the
    oldest queued task that is due now (None when none is).
    """

    group: str
    queued: int
    due: int
    in_flight: int
    done: int
    failed: int
    oldest_due: float | None = None


class Lock(Protocol):
    """A named lock shared by every process using the same backend and namespace.

    ``acquire`` never blocks: True means this object now holds the lock.
    ``release`` frees it (a no-op when not held). A lock held by a process
    that died is freed by the backend: at once where the database ties it to
    the session, otherwise when its lease expires (at most 60 s). Holding a
    lock never keeps a database transaction open.
    """

    def acquire(self) -> bool:
        """Try to take the lock without waiting."""
        ...

    def release(self) -> None:
        """Give the lock back."""
        ...


class Subscription(Protocol):
    """A registration that lasts until ``close`` is called."""

    def close(self) -> None: ...


@dataclass
class NoSubscription:
    """What ``watch_tasks`` returns on a backend without push wake-ups."""

    def close(self) -> None:
        return None


@runtime_checkable
class Backend(Protocol):
    """The storage contract. Every method is safe to call from many threads.

    Methods that take several tasks or ids apply them all or none. Names are
    compared byte for byte. Unless a method says otherwise, an unknown task
    id is ignored rather than an error.
    """

    url: str
    """The URL the backend was opened from; worker processes reopen it."""

    namespace: str
    """Table or key prefix: two namespaces on one server never see each other."""

    capabilities: Capabilities

    # -- workers -----------------------------------------------------------

    def set_worker_ttl(self, worker_ids: Collection[str], ttl: float) -> None:
        """Mark the workers alive for ``ttl`` more seconds (the heartbeat).

        Creates the worker records that do not exist yet. The expiry is
        computed on the backend's clock.
        """
        ...

    def get_workers(self) -> list[tuple[str, float]]:
        """Every known worker id with the time its lease expires, soonest first."""
        ...

    def purge_workers(self, worker_ids: Collection[str]) -> None:
        """Forget these workers (a worker does this for itself on a clean stop)."""
        ...

    def purge_dead_workers(self) -> list[str]:
        """Forget every worker whose lease has expired; return their ids.

        Atomic per worker, and safe to call from several processes at once
        (workers purge without a lock): a lease renewed meanwhile is kept.
        """
        ...

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> None:
        """Queue the tasks, all or none.

        Puts are idempotent: a task whose id already exists is left as it
        is, so repeating a put after an unclear error cannot duplicate work.

        With ``connection`` (only where ``transactional_enqueue`` is a
        capability) the tasks are written through the application's own
        open transaction and exist only if it commits.
        """
        ...

    def put_done_task(
        self, task: Task, *, result: bytes | None = None, error: str | None = None
    ) -> None:
        """Store a task that already ran outside any worker (eager mode).

        Exactly one of ``result`` and ``error`` is given; the task is done
        now and disposable ``task.ttl`` seconds later. A task with the same
        id is replaced.
        """
        ...

    # -- assignment ----------------------------------------------------------

    def assign_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        """Claim up to ``limit`` due tasks of ``group`` for ``worker_id``.

        Oldest due first, ties broken by id. Each claimed task leaves the
        queue and is staged to the worker with its attempt number raised by
        one. Atomic: two callers never receive the same task, and never more
        than ``limit`` tasks are staged. An empty list means nothing is due.
        Never holds a transaction open after it returns.
        """
        ...

    def settle(self, *outcomes: Outcome) -> list[bool]:
        """Apply the outcomes of claimed attempts; one bool per outcome.

        Each outcome takes effect only if its task is still staged to
        ``claim.worker_id`` at ``claim.attempt`` (fencing); otherwise it
        changes nothing and its entry is False. A done task is disposable
        ``task.ttl`` seconds after it finished. A released task gives its
        attempt back: its next claim has the released claim's number again,
        so stopping workers never counts against ``max_attempts``.
        """
        ...

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        """Put back in the queue up to ``limit`` tasks staged to dead workers.

        A worker is dead when it has no lease or its lease has expired on
        the backend's clock. A restored task keeps its due time and
        retry_count; its next claim gets the next attempt number. Returns what
        was restored. A worker that refreshes its lease concurrently keeps
        its task or loses it, never both.
        """
        ...

    # -- reading -------------------------------------------------------------

    def lookup_tasks(self, *task_ids: str) -> dict[str, Task | None]:
        """Each id mapped to its task in any state, or None when it does not exist."""
        ...

    def get_queued_tasks(self, group: str, limit: int) -> list[Task]:
        """Up to ``limit`` queued tasks of ``group`` (due or not), in claim order."""
        ...

    def get_result(self, task_id: str) -> tuple[Task, bytes]:
        """The finished task and its result bytes.

        Raises NotFound when no such task exists, Failed (with the error
        message) when it failed, NoResult when it has not finished.
        """
        ...

    def get_done_task_ids(self, since: float | None, until: float | None, limit: int) -> list[str]:
        """Ids of tasks finished (succeeded or failed) in [since, until], oldest first.

        None means from the beginning / until now.
        """
        ...

    def get_disposable_task_ids(self, limit: int) -> list[str]:
        """Ids of finished tasks whose ttl has run out, oldest first."""
        ...

    def get_stage_info(self, limit: int) -> list[StageInfo]:
        """Up to ``limit`` staged tasks with their worker and attempt, longest-held first."""
        ...

    def group_stats(self, since: float) -> list[GroupStats]:
        """Per-group counts (see GroupStats) for every group that has tasks, by name."""
        ...

    # -- removing --------------------------------------------------------------

    def discard_tasks(self, *task_ids: str) -> None:
        """Delete the tasks and their results, whatever their state."""
        ...

    # -- scheduler -------------------------------------------------------------

    def persist_scheduler_state_and_put_tasks(
        self, name: str, data: bytes, *tasks: Task, expected: bytes | None = None
    ) -> bool:
        """Store the scheduler's state and queue its tasks in one atomic step.

        Compare-and-set: only if the stored state of ``name`` equals
        ``expected`` (None: no state stored yet). Otherwise nothing changes
        and the answer is False, so two schedulers can never both enqueue
        the same schedule point.
        """
        ...

    def get_scheduler_state(self, name: str) -> bytes | None:
        """The state last stored for the scheduler ``name``, or None."""
        ...

    # -- coordination -----------------------------------------------------------

    def get_lock(self, target: str) -> Lock:
        """A lock object for ``target`` (see :class:`Lock`)."""
        ...

    def watch_tasks(self, callback: Callable[[str], None]) -> Subscription:
        """Call ``callback(group)`` soon after a task of ``group`` is put.

        Only backends with ``push_wakeups`` call back; others return a
        subscription that never fires. The callback runs on a backend
        thread and must return quickly. Missed calls are allowed: workers
        still poll.
        """
        ...

    # -- lifecycle ----------------------------------------------------------------

    def destroy_all(self) -> None:
        """Delete every task, worker, lock, event and state of this namespace."""
        ...

    def close(self) -> None:
        """Release connections and threads; the object is unusable afterwards."""
        ...


@dataclass
class Connection:
    """What opening a URL gives: the backend and its event bridge."""

    backend: Backend
    bridge: EventBridge

    def close(self) -> None:
        """Close the bridge and the backend."""
        self.bridge.close()
        self.backend.close()
