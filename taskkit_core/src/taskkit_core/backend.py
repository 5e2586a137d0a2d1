"""The storage contract every backend keeps (the records it trades in are in ``records``).

A backend stores tasks as opaque bytes; the core owns encoding. The life of
a task in a backend, by its :class:`TaskState`:

    put_tasks ──> queued ──claim_tasks──> staged to a worker ──settle──> succeeded / failed
                    ^  │                        │                          / cancelled
                    │  └─cancel_tasks─> cancelled                                │
                    └─ retried / released / restore_abandoned ┘   discard_tasks after ttl,
                    └─ retry_tasks (of a failed or cancelled task)    purge_tasks

A worker process holds a lease (its worker id and an expiry) that its
heartbeat refreshes with ``refresh_leases``; a worker whose lease expired is
dead, and ``restore_abandoned`` puts the tasks staged to it back in the queue.

Every write a worker makes after claiming a task (``settle``) names its
:class:`Claim`: the task id, the worker id and the attempt number. The write
takes effect only while the task is still staged to that worker at that
attempt, so a worker that lost its claim (it was paused, cut off, or slower
than its TTL and its task was restored and claimed again) cannot overwrite
the outcome of the worker that took over. Its late write is refused and
``settle`` reports False.

Job control: a claim takes the highest ``Task.priority`` first; a put
honours ``Task.unique``; ``cancel_tasks`` cancels a queued task at once and
records a request for a staged one, which its worker learns from the answer
of ``refresh_leases``; ``read_task``, ``list_tasks``, ``retry_tasks`` and
``purge_tasks`` let an operator inspect and repair. Priorities and unique
keys are capabilities (a backend may leave them out and the core refuses
such tasks); everything else is required.

Lease and expiry decisions (worker liveness, due times of retries, when a
finished task becomes disposable) use the backend's own clock where it has
one (``Capabilities.server_clock``); otherwise the core's settable clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .events import EventBridge
from .records import (
    FINISHED_STATES,
    AllCreated,
    CancelResult,
    Capabilities,
    Claim,
    GroupStats,
    Outcome,
    OutcomeKind,
    PutResult,
    RetryResult,
    StageInfo,
    TaskInfo,
    TaskState,
)
from .task import Task

__all__ = [
    "FINISHED_STATES",
    "AllCreated",
    "Backend",
    "CancelResult",
    "Capabilities",
    "Claim",
    "Connection",
    "GroupStats",
    "Lock",
    "NoSubscription",
    "Outcome",
    "OutcomeKind",
    "PutResult",
    "RetryResult",
    "StageInfo",
    "Subscription",
    "TaskInfo",
    "TaskState",
]


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

    # -- leases ------------------------------------------------------------

    def refresh_leases(self, worker_ids: Collection[str], ttl: float) -> list[str]:
        """Extend the workers' leases to ``ttl`` seconds from now (the heartbeat).

        Creates the leases that do not exist yet. The expiry is computed on
        the backend's clock.

        Returns the ids of tasks staged to these workers whose cancellation
        was requested (``cancel_tasks``), so the heartbeat delivers cancel
        requests within one period. Almost always empty, and it must stay
        cheap: read an index or a key of pending requests, never scan the
        staged tasks. A request stays listed until its attempt settles.
        """
        ...

    def get_leases(self) -> list[tuple[str, float]]:
        """Every lease: the worker id and the time it expires, soonest first."""
        ...

    def drop_leases(self, worker_ids: Collection[str]) -> None:
        """Delete these workers' leases (a worker drops its own on a clean stop)."""
        ...

    def purge_expired_leases(self) -> list[str]:
        """Delete every lease that has expired; return the ids of those (dead) workers.

        Atomic per lease, and safe to call from several processes at once
        (workers purge without a lock): a lease refreshed meanwhile is kept.
        """
        ...

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> Sequence[PutResult]:
        """Queue the tasks, all or none; one PutResult per task, in order.

        A list of them, or ``AllCreated(tasks)`` when every task was
        written: it makes each PutResult as it is read, so a bulk put keeps
        no object per task for its answer.

        Puts are idempotent: a task whose id already exists is left as it
        is (``created`` False), so repeating a put after an unclear error
        cannot duplicate work.

        Unique keys (with ``unique_tasks``): a task whose ``unique.key`` is
        held in its group by a task that still counts (in a covered state
        and within its period, see :class:`~taskkit_core.task.Unique`) is
        not written; its PutResult has ``created`` False and the holder's
        id. The check and the write are one atomic step: any number of
        threads and processes putting the same (group, key) at once leave
        exactly one task. Within one call, the first task with a key wins
        and later ones report its id. Duplicates are not errors; an error
        still writes none of the tasks.

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

    # -- claiming and settling ------------------------------------------------

    def claim_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        """Claim up to ``limit`` due tasks of ``group`` for ``worker_id``.

        Highest priority first, then earliest due, then smallest id;
        strictly, with no aging: aging would make the order depend on wall
        time and rule out a claim read straight from an index. Fairness
        between kinds of work comes from separate groups. (A backend
        without ``priorities`` claims by due, then id.) Each claimed task
        leaves the queue and is staged to the worker with its attempt number raised by
        one. Atomic: two callers never receive the same task, and never more
        than ``limit`` tasks are staged. An empty list means nothing is due.
        Never holds a transaction open after it returns.
        """
        ...

    def settle(self, *outcomes: Outcome) -> list[bool]:
        """Apply the outcomes of claimed attempts; one bool per outcome.

        Each outcome takes effect only if its task is still staged to
        ``claim.worker_id`` at ``claim.attempt`` (fencing); otherwise it
        changes nothing and its entry is False. A finished task (succeeded,
        failed or cancelled) is disposable ``task.ttl`` seconds after it
        finished. A CANCELLED outcome finishes the task as cancelled with
        its message (as FAILED stores its error). Settling ends any cancel
        request the attempt had, whatever the outcome: a cancel request
        loses to an outcome settled first. A released task gives its
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
        its task or loses it, never both. A task with a pending cancel
        request is cancelled instead of queued again (and is in the answer
        too).
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
        message) when it failed, Cancelled (a Failed) when it was
        cancelled, NoResult when it has not finished.
        """
        ...

    def get_done_task_ids(self, since: float | None, until: float | None, limit: int) -> list[str]:
        """Ids of tasks finished (succeeded, failed or cancelled) in [since, until], oldest first.

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

    def read_task(self, task_id: str) -> TaskInfo | None:
        """Everything known about one task (see TaskInfo), or None when it does not exist.

        The task comes back as it was put, headers included.
        """
        ...

    def list_tasks(
        self,
        state: TaskState,
        group: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[TaskInfo]:
        """Up to ``limit`` (1..1000) tasks in ``state``, of ``group`` or of every group.

        Newest first by task id (ids are time-ordered). ``before`` pages:
        pass the last id of the previous page to get the tasks after it
        (ids smaller than ``before``, exclusive). It must stay fast with a
        million finished tasks: read an index on (state, group, id) or a
        key per state, never filter every task.
        """
        ...

    # -- job control -------------------------------------------------------------

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]:
        """Cancel tasks; each id mapped to what happened (see CancelResult).

        A queued task (due or not) becomes cancelled at once: finished now,
        it never starts and ``get_result`` raises Cancelled. A staged task
        gets a cancel request: ``refresh_leases`` lists it for its worker,
        which settles the attempt as CANCELLED; if the attempt settles
        otherwise first, that outcome stands. A finished task is left as it
        is (FINISHED); an unknown id is NOT_FOUND. Idempotent: cancelling
        again gives the same kind of answer and changes nothing. Each task
        is decided atomically against concurrent claims and settles.
        """
        ...

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]:
        """Queue failed or cancelled tasks again; each id mapped to a RetryResult.

        A retried task is due now with retry_count 0 and attempt 0 (a fresh
        count against ``max_attempts``); its old error stays readable in
        ``read_task`` until it finishes again, and its result and finish
        time are cleared. Succeeded, queued and staged tasks are
        NOT_RETRYABLE and unchanged; unknown ids are NOT_FOUND.
        """
        ...

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED_STATES) -> int:
        """Delete the group's finished tasks in ``states``; return how many were deleted.

        Only finished states may be named: QUEUED or STAGED raises
        InvalidTaskError and nothing is deleted. Works in batches, so it
        never holds one long transaction or blocks a busy server.
        """
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
        the same schedule point. Unique keys are honoured as in
        ``put_tasks``: a duplicate is skipped, not an error.
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
