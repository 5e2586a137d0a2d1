"""The records a backend trades in: claims, outcomes, stages, task states, statistics,
and the answers of the job-control methods (puts, cancels, retries, read-backs).

They are plain values: the core builds them, a backend stores what they say
and returns them as they were (see :mod:`taskkit_core.backend` for the
contract that uses them).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, NamedTuple, overload

from .clock import cur_ts
from .errors import InvalidTaskError
from .task import Task

MAX_LIST_LIMIT = 1000
"""The most tasks one ``list_tasks`` call returns."""


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
    priorities: claims honour ``Task.priority`` (highest first). Without
        it the core refuses a task whose priority is not 0.
    unique_tasks: ``put_tasks`` honours ``Task.unique`` atomically. Without
        it the core refuses a task with a unique key.

    Both job-control flags default to False so that a backend written for
    0.3 still describes itself truthfully.
    """

    multi_process: bool = True
    push_wakeups: bool = False
    transactional_enqueue: bool = False
    server_clock: bool = False
    priorities: bool = False
    unique_tasks: bool = False

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


class TaskState(StrEnum):
    """Where a task is in its life; each backend stores it as it likes and converts here."""

    QUEUED = "queued"  # in the queue, due or not
    STAGED = "staged"  # claimed: staged to a worker at an attempt
    SUCCEEDED = "succeeded"  # finished with a result
    FAILED = "failed"  # finished without a result, with an error message
    CANCELLED = "cancelled"  # finished because a cancel request stopped it (or it never started)

    @property
    def finished(self) -> bool:
        """Whether a task in this state is finished (succeeded, failed or cancelled)."""
        return self in FINISHED_STATES


FINISHED_STATES: frozenset[TaskState] = frozenset(
    {TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED}
)
"""The states of a finished task: it keeps its ttl and may be purged."""


class OutcomeKind(StrEnum):
    """How a claimed attempt ended."""

    SUCCEEDED = "succeeded"  # store ``result``; the task is done
    FAILED = "failed"  # store ``message``; the task is done, without a result
    RETRIED = "retried"  # back to the queue, due ``delay`` s from now, retry_count + 1
    DISCARDED = "discarded"  # delete the task; no result is kept
    RELEASED = "released"  # back to the queue unchanged, attempt given back (never started)
    CANCELLED = "cancelled"  # stopped by a cancel request; store ``message``; the task is done


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

    @classmethod
    def cancelled(cls, claim: Claim, message: str) -> Outcome:
        return cls(OutcomeKind.CANCELLED, claim, message=message)

    def __repr__(self) -> str:
        return (
            f"Outcome({self.kind.value}, task={self.claim.task.id}, attempt={self.claim.attempt})"
        )


@dataclass(frozen=True)
class GroupStats:
    """Counts for one group, for ``taskkit status``.

    ``queued`` counts queued tasks and ``due`` those of them that are due;
    ``staged`` counts staged tasks (``in_flight`` in 0.3); ``done``
    (succeeded), ``failed`` and ``cancelled`` count tasks finished since
    the ``since`` given to :meth:`Backend.group_stats`; ``oldest_due`` is
    the due time of the oldest due task (None when none is).
    """

    group: str
    queued: int
    due: int
    staged: int
    done: int
    failed: int
    oldest_due: float | None = None
    cancelled: int = 0


class PutResult(NamedTuple):
    """What ``put_tasks`` did with one task.

    ``created`` is False when the task was not written: a task with its id
    already existed (an idempotent repeat), or a unique key's holder
    refused it, in which case ``task_id`` is the holder's id. A named
    tuple: every put makes one per task, and a tuple is the cheapest record.
    """

    task_id: str
    created: bool


class AllCreated(Sequence[PutResult]):
    """A put's answer when it created every task it was given: PutResults made as read.

    What a bulk put keeps alive sets how often the garbage collector
    passes over the whole heap; answering 5,000 created tasks with 5,000
    tuples made that pass about a microsecond a task dearer. This answer
    keeps only the tasks, which the caller holds anyway. It compares equal
    to any sequence of the same PutResults (a list of them, say).
    """

    __slots__ = ("_tasks",)

    def __init__(self, tasks: Sequence[Task]) -> None:
        self._tasks = tasks

    def __len__(self) -> int:
        return len(self._tasks)

    @overload
    def __getitem__(self, index: int) -> PutResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[PutResult]: ...

    def __getitem__(self, index: int | slice) -> PutResult | list[PutResult]:
        if isinstance(index, slice):
            return [PutResult(task.id, True) for task in self._tasks[index]]
        return PutResult(self._tasks[index].id, True)

    def __iter__(self) -> Iterator[PutResult]:
        return (PutResult(task.id, True) for task in self._tasks)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return f"AllCreated({len(self)} tasks)"


class CancelResult(StrEnum):
    """What ``cancel_tasks`` did with one task id."""

    CANCELLED = "cancelled"  # it was queued: now cancelled, it never starts
    REQUESTED = "requested"  # it was staged: its worker stops it at its next heartbeat
    FINISHED = "finished"  # it had already finished: nothing changed
    NOT_FOUND = "not_found"  # no such task


class RetryResult(StrEnum):
    """What ``retry_tasks`` did with one task id."""

    QUEUED = "queued"  # it had failed or was cancelled: queued again, due now
    NOT_RETRYABLE = "not_retryable"  # succeeded, queued or staged: nothing changed
    NOT_FOUND = "not_found"  # no such task


@dataclass(frozen=True)
class TaskInfo:
    """Everything a backend knows about one task (``read_task``, ``list_tasks``).

    ``attempt`` counts its claims; ``worker_id`` and ``began`` describe the
    current or last claim (None before the first); ``finished`` is when it
    finished (None unless it has); ``error`` is the last failure's message,
    kept while a retried task waits in the queue until it finishes again;
    ``result_size`` is the stored result's size in bytes (None without a
    result); ``cancel_requested`` says a cancel request waits for its
    worker.
    """

    task: Task
    state: TaskState
    attempt: int = 0
    worker_id: str | None = None
    began: float | None = None
    finished: float | None = None
    error: str | None = None
    result_size: int | None = None
    cancel_requested: bool = False


def check_list_limit(limit: object) -> int:
    """``limit`` if it is an int in 1..MAX_LIST_LIMIT (list_tasks' page size)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidTaskError(f"limit must be an int from 1 to {MAX_LIST_LIMIT}, got {limit!r}")
    return limit


def check_purgeable(states: Collection[TaskState | str]) -> frozenset[TaskState]:
    """``states`` as TaskStates if each is a finished state; purge_tasks refuses the others."""
    try:
        given = frozenset(TaskState(state) for state in states)
    except ValueError as exc:
        raise InvalidTaskError(f"purge_tasks: {exc}") from None
    live = sorted(given - FINISHED_STATES)
    if live or not given:
        raise InvalidTaskError(
            "purge_tasks deletes only finished tasks (succeeded, failed, cancelled), "
            f"not {', '.join(live) or 'an empty set of states'}"
        )
    return given
