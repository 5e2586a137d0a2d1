"""The hooks an observer implements: one per step in the life of a task or a worker.

An observer is a pluggy plugin of the project ``taskkit``, found like a
backend through the ``taskkit`` entry point group (one module may
implement observer hooks, backend hooks or both), named in
``TASKKIT_OBSERVERS``, or registered with
:func:`taskkit_core.observers.register_observer`. It marks its functions
with ``taskkit_core.hookimpl`` and implements only the hooks it needs,
taking only the arguments it needs.

When hooks run: in the thread where the step happens (the caller of
``initiate_task``, a pool's claimer, a worker thread around the handler,
the heartbeat, the restorer), never while taskkit holds a lock, so a slow
observer slows that thread and nothing else. ``started`` and the outcome
hook of the same attempt run in the same worker thread, around the
handler: a tracer can make its span current there. An observer that
raises is logged (once per observer and hook, then a count every minute)
and skipped; the worker goes on.

With no observer installed no hook is called and no event is built.
plugins.md ("Observers") documents each hook; a test keeps it and this
module in step. All of them were added in taskkit-core 0.4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..hookspecs import hookspec

if TYPE_CHECKING:
    from ..task import Task
    from .events import LeaseEvent, RestoreEvent, TaskEvent, WorkerEvent

# -- the producer side ---------------------------------------------------------------


@hookspec
def taskkit_task_enqueuing(task: Task) -> Mapping[str, str] | None:
    """Headers to add to ``task`` before it is put (a trace context, say), or None.

    Called for each task an application puts (not for eager runs), before
    anything is written; the headers of every observer are merged.
    """


@hookspec
def taskkit_task_enqueued(event: TaskEvent) -> None:
    """The put of ``event.task`` returned: the task is queued."""


@hookspec
def taskkit_task_enqueue_failed(event: TaskEvent) -> None:
    """The put of ``event.task`` raised ``event.error``: nothing was queued."""


# -- the worker side: one attempt ------------------------------------------------------


@hookspec
def taskkit_task_claimed(event: TaskEvent) -> None:
    """A pool claimed the task for this worker (the attempt number went up)."""


@hookspec
def taskkit_task_started(event: TaskEvent) -> None:
    """A worker thread is about to run the handler; ``event.queue_wait`` is set."""


@hookspec
def taskkit_task_succeeded(event: TaskEvent) -> None:
    """The handler returned; the result is about to be settled."""


@hookspec
def taskkit_task_failed(event: TaskEvent) -> None:
    """The attempt failed for good (``event.error``), or the task ran out of attempts."""


@hookspec
def taskkit_task_retried(event: TaskEvent) -> None:
    """The attempt raised and the task goes back to the queue (``event.outcome.delay``)."""


@hookspec
def taskkit_task_discarded(event: TaskEvent) -> None:
    """The handler discarded the task (DiscardTask): it is deleted."""


@hookspec
def taskkit_task_timed_out(event: TaskEvent) -> None:
    """The attempt ran past the task's timeout; its outcome hook (retried or failed) follows."""


@hookspec
def taskkit_task_cancelled(event: TaskEvent) -> None:
    """A cancel request stopped the attempt (outcome cancelled)."""


@hookspec
def taskkit_task_released(event: TaskEvent) -> None:
    """The claim was given back before the task started (pause, stop): no attempt used."""


@hookspec
def taskkit_lease_lost(event: TaskEvent) -> None:
    """The backend refused this attempt's outcome: another worker took the task over."""


# -- the worker side: processes and leases ----------------------------------------------


@hookspec
def taskkit_worker_started(worker: WorkerEvent) -> None:
    """A worker runtime holds its lease and is about to claim."""


@hookspec
def taskkit_worker_stopped(worker: WorkerEvent) -> None:
    """A worker runtime finished its shutdown (running tasks drained or released)."""


@hookspec
def taskkit_lease_refreshed(event: LeaseEvent) -> None:
    """The heartbeat refreshed this worker's lease."""


@hookspec
def taskkit_lease_late(event: LeaseEvent) -> None:
    """A refresh came more than half a ``worker_ttl`` after the previous one."""


@hookspec
def taskkit_tasks_restored(event: RestoreEvent) -> None:
    """This process's restorer put tasks of dead workers back in the queue."""
