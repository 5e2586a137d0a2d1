"""Job control through the Kit: cancel, retry, read back, list and purge tasks.

A mixin of :class:`~taskkit_core.Kit`; each method is one backend call,
with its arguments checked first so bad input changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from .errors import InvalidTaskError, NotFound
from .records import (
    FINISHED_STATES,
    CancelResult,
    RetryResult,
    TaskInfo,
    TaskState,
    check_list_limit,
    check_purgeable,
)
from .task import check_name

if TYPE_CHECKING:
    from .backend import Backend


class KitJobControl:
    """Cancel, retry, read, list and purge tasks by id or group."""

    backend: Backend

    def cancel(self, *task_ids: str) -> dict[str, CancelResult]:
        """Cancel tasks: a queued one never starts, a running one is stopped (see CancelResult)."""
        return self.backend.cancel_tasks(*task_ids)

    def retry(self, *task_ids: str) -> dict[str, RetryResult]:
        """Queue failed or cancelled tasks again, due now, with a fresh attempt count."""
        return self.backend.retry_tasks(*task_ids)

    def read_task(self, task_id: str) -> TaskInfo:
        """Everything known about one task; NotFound when there is no such task."""
        info = self.backend.read_task(task_id)
        if info is None:
            raise NotFound(f"no task with id {task_id!r}")
        return info

    def list_tasks(
        self,
        state: TaskState | str = TaskState.FAILED,
        group: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[TaskInfo]:
        """Tasks in ``state`` (of ``group``, or all), newest first; page with ``before``."""
        state, limit = _state(state), check_list_limit(limit)
        if group is not None:
            check_name("group", group)
        return self.backend.list_tasks(state, group, limit, before)

    def purge(self, group: str, states: Collection[TaskState | str] = FINISHED_STATES) -> int:
        """Delete the group's finished tasks in ``states``; return how many went."""
        purgeable = check_purgeable(states)
        return self.backend.purge_tasks(check_name("group", group), purgeable)


def _state(state: TaskState | str) -> TaskState:
    try:
        return TaskState(state)
    except ValueError:
        names = ", ".join(s.value for s in TaskState)
        raise InvalidTaskError(f"unknown task state {state!r}; the states are {names}") from None
