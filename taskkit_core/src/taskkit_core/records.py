"""The records a backend trades in: claims, outcomes, stages, task states, statistics.

They are plain values: the core builds them, a backend stores what they say
and returns them as they were (see :mod:`taskkit_core.backend` for the
contract that uses them).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from .clock import cur_ts
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


class TaskState(StrEnum):
    """Where a task is in its life; each backend stores it as it likes and converts here."""

    QUEUED = "queued"  # in the queue, due or not
    STAGED = "staged"  # claimed: staged to a worker at an attempt
    SUCCEEDED = "succeeded"  # finished with a result
    FAILED = "failed"  # finished without a result, with an error message


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

    ``queued`` counts queued tasks and ``due`` those of them that are due;
    ``staged`` counts staged tasks (``in_flight`` in 0.3); ``done``
    (succeeded) and ``failed`` count tasks finished since the ``since``
    given to :meth:`Backend.group_stats`; ``oldest_due`` is the due time of
    the oldest due task (None when none is).
    """

    group: str
    queued: int
    due: int
    staged: int
    done: int
    failed: int
    oldest_due: float | None = None
