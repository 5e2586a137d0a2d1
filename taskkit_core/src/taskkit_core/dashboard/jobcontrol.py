"""The dashboard's one door to job control (issue 16), until it lands on main.

Job control adds ``list_tasks``, ``read_task``, ``retry_tasks``,
``cancel_tasks`` and ``purge_tasks`` to the Backend protocol, with the
records below. The dashboard calls them only through this module, by their
spec names, on whatever backend it is given; a backend without them gets
:class:`JobControlMissing`, shown as one line where a task page would be.

TODO(merge): when job control is on main, import TaskState, TaskInfo,
CancelResult and RetryResult from taskkit_core instead of the copies here,
return the backend itself from :func:`job_control`, and let :func:`leases`
call ``get_leases`` only (its 0.3 name ``get_workers`` is the fallback).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, cast

from ..backend import Backend
from ..errors import TaskkitError
from ..task import Task


class TaskState(StrEnum):
    """Where a task is in its life (the spec's enum, CANCELLED included)."""

    QUEUED = "queued"
    STAGED = "staged"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)
"""The states a task never leaves by itself; purge deletes only these."""


class CancelResult(StrEnum):
    """What cancelling one task did."""

    CANCELLED = "cancelled"
    REQUESTED = "requested"
    FINISHED = "finished"
    NOT_FOUND = "not_found"


class RetryResult(StrEnum):
    """What retrying one task did."""

    QUEUED = "queued"
    NOT_RETRYABLE = "not_retryable"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class TaskInfo:
    """Everything a backend knows about one task (``read_task``, ``list_tasks``)."""

    task: Task
    state: TaskState
    attempt: int
    worker_id: str | None
    began: float | None
    finished: float | None
    error: str | None
    result_size: int | None
    cancel_requested: bool


class JobControl(Protocol):
    """The job-control methods of the Backend protocol, as the spec names them."""

    def list_tasks(
        self, state: TaskState, group: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[TaskInfo]: ...

    def read_task(self, task_id: str) -> TaskInfo | None: ...

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]: ...

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]: ...

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED) -> int: ...


METHODS = ("list_tasks", "read_task", "retry_tasks", "cancel_tasks", "purge_tasks")


class JobControlMissing(TaskkitError):
    """The backend has no job control (a taskkit 0.3 backend, or 0.4 before issue 16)."""


def job_control(backend: Backend) -> JobControl:
    """``backend`` seen through its job-control methods; JobControlMissing without them."""
    missing = [name for name in METHODS if not callable(getattr(backend, name, None))]
    if missing:
        raise JobControlMissing(
            f"this backend ({type(backend).__name__}) has no {', '.join(missing)}: "
            "task lists, task pages, retry, cancel and purge need a backend with job control"
        )
    return cast(JobControl, backend)


def leases(backend: Backend) -> list[tuple[str, float]]:
    """Every worker lease as (worker id, expiry), soonest expiry first."""
    # Both names by getattr, so this type-checks before and after the 0.4 renames.
    read = getattr(backend, "get_leases", None) or getattr(backend, "get_workers")  # noqa: B009
    return list(cast(list[tuple[str, float]], read()))
