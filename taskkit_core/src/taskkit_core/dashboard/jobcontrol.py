"""The dashboard's one door to job control (issue 16), until it lands on main.

Job control adds ``list_tasks``, ``read_task``, ``retry_tasks``,
``cancel_tasks`` and ``purge_tasks`` to the Backend protocol, with the
records below. The dashboard calls them only through this module, by their
spec names, on whatever backend it is given; a backend without them gets
:class:`JobControlMissing`, shown as one line where a task page would be.

The records (TaskState, TaskInfo, CancelResult, RetryResult) are core's.
TODO(merge): once every backend on main has job control, return the
backend itself from :func:`job_control`, and let :func:`leases` call
``get_leases`` only (its 0.3 name ``get_workers`` is the fallback).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, cast

from ..backend import Backend
from ..errors import TaskkitError
from ..records import CancelResult, RetryResult, TaskInfo, TaskState

__all__ = [
    "FINISHED",
    "METHODS",
    "CancelResult",
    "JobControl",
    "JobControlMissing",
    "RetryResult",
    "TaskInfo",
    "TaskState",
    "job_control",
    "leases",
]


FINISHED = (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)
"""The states a task never leaves by itself; purge deletes only these."""


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
