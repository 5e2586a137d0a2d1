"""TEST DOUBLE for job control (issue 16), which is not on main's Backend protocol yet.

TODO(merge): delete this module once every backend has list_tasks,
read_task, retry_tasks, cancel_tasks and purge_tasks; the tests then use the
backend itself (``with_job_control`` returns it unchanged).

:class:`JobControlDouble` wraps a real backend (memory, SQLite,
PostgreSQL, ...) and adds ONLY those five methods, built from the 0.3
protocol the backend already has; every other call goes to the real
backend, so the dashboard's other reads and the tests' checks of the
backend's state are real. Where 0.3 has no such state the double keeps a
little in memory: which failed tasks it cancelled (a cancelled queued task
is stored as a task that failed with CANCEL_MESSAGE) and which staged ones
have a cancel request. It reads whole lists: fine for tests, not for
production.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any, cast

from taskkit_core.dashboard.jobcontrol import (
    FINISHED,
    METHODS,
    CancelResult,
    RetryResult,
    TaskInfo,
    TaskState,
)

from taskkit_core import Backend, Connection, Failed, NoResult, StageInfo, Task, cur_ts

CANCEL_MESSAGE = "Cancelled: cancelled from the dashboard (test double)"
EVERYTHING = 100_000


class JobControlDouble:
    """A backend plus the five job-control methods (see the module docstring)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.cancelled: set[str] = set()
        self.cancel_requested: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    # -- reading ---------------------------------------------------------------

    def read_task(self, task_id: str) -> TaskInfo | None:
        task = self.inner.lookup_tasks(task_id)[task_id]
        return None if task is None else self._info(task, self._stages().get(task_id))

    def list_tasks(
        self, state: TaskState, group: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[TaskInfo]:
        stages = self._stages()
        tasks = [t for t in self._candidates(state, stages) if group in (None, t.group)]
        tasks = sorted((t for t in tasks if before is None or t.id < before), key=lambda t: t.id)
        infos = [self._info(t, stages.get(t.id)) for t in reversed(tasks)]
        return [i for i in infos if i.state == state][:limit]

    def _candidates(self, state: TaskState, stages: dict[str, StageInfo]) -> list[Task]:
        if state == TaskState.QUEUED:
            groups = [s.group for s in self.inner.group_stats(since=0.0)]
            return [t for g in groups for t in self.inner.get_queued_tasks(g, EVERYTHING)]
        if state == TaskState.STAGED:
            ids = list(stages)
        else:
            ids = self.inner.get_done_task_ids(None, None, EVERYTHING)
        found = self.inner.lookup_tasks(*ids) if ids else {}
        return [t for t in found.values() if t is not None]

    def _stages(self) -> dict[str, StageInfo]:
        return {s.task_id: s for s in self.inner.get_stage_info(EVERYTHING)}

    def _info(self, task: Task, stage: StageInfo | None) -> TaskInfo:
        state, error, size = self._state(task, stage)
        return TaskInfo(
            task=task,
            state=state,
            attempt=stage.attempt if stage else 0,
            worker_id=stage.worker_id if stage else None,
            began=stage.began if stage else None,
            finished=None,
            error=error,
            result_size=size,
            cancel_requested=task.id in self.cancel_requested,
        )

    def _state(
        self, task: Task, stage: StageInfo | None
    ) -> tuple[TaskState, str | None, int | None]:
        if stage is not None:
            return TaskState.STAGED, None, None
        try:
            _, result = self.inner.get_result(task.id)
        except NoResult:
            return TaskState.QUEUED, None, None
        except Failed as exc:
            cancelled = task.id in self.cancelled
            return (TaskState.CANCELLED if cancelled else TaskState.FAILED), exc.message, None
        return TaskState.SUCCEEDED, None, len(result)

    # -- changing ---------------------------------------------------------------

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]:
        return {task_id: self._retry(task_id) for task_id in task_ids}

    def _retry(self, task_id: str) -> RetryResult:
        info = self.read_task(task_id)
        if info is None:
            return RetryResult.NOT_FOUND
        if info.state not in (TaskState.FAILED, TaskState.CANCELLED):
            return RetryResult.NOT_RETRYABLE
        self.inner.discard_tasks(task_id)
        self.inner.put_tasks(replace(info.task, due=cur_ts(), retry_count=0))
        self.cancelled.discard(task_id)
        return RetryResult.QUEUED

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]:
        return {task_id: self._cancel(task_id) for task_id in task_ids}

    def _cancel(self, task_id: str) -> CancelResult:
        info = self.read_task(task_id)
        if info is None:
            return CancelResult.NOT_FOUND
        if info.state == TaskState.STAGED:
            self.cancel_requested.add(task_id)
            return CancelResult.REQUESTED
        if info.state != TaskState.QUEUED:
            return CancelResult.FINISHED
        self.inner.discard_tasks(task_id)
        self.inner.put_done_task(info.task, error=CANCEL_MESSAGE)
        self.cancelled.add(task_id)
        return CancelResult.CANCELLED

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED) -> int:
        doomed = [i.task.id for s in states for i in self.list_tasks(s, group, EVERYTHING)]
        if doomed:
            self.inner.discard_tasks(*doomed)
        return len(doomed)


def with_job_control(connection: Connection) -> Connection:
    """``connection`` whose backend has job control: its own, or the double's."""
    if all(callable(getattr(connection.backend, name, None)) for name in METHODS):
        return connection
    double = cast(Backend, JobControlDouble(connection.backend))
    return Connection(double, connection.bridge)
