"""``current_task()``: what a running task knows about itself.

The worker's claim (``taskkit_core.current_claim``: worker id and attempt)
is the backbone; the app adds the task it is running, so the context also
works in eager mode, where there is no claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import TaskkitError
from ..task import Task
from ..worker import current_claim

_running: ContextVar[Task | None] = ContextVar("taskkit_running_task", default=None)


class NoTaskRunning(TaskkitError, RuntimeError):
    """``current_task()`` was called outside a task run by taskkit."""


@dataclass(frozen=True)
class TaskContext:
    """The running task: ids, attempt and times (aware datetimes, UTC).

    ``attempt`` counts the claims of the task, 1 for the first run (and in
    eager mode); ``retry_count`` counts the retries its failures asked for.
    ``worker_id`` is None in eager mode.
    """

    id: str
    name: str
    group: str
    attempt: int
    retry_count: int
    enqueued_at: datetime
    due_at: datetime
    scheduled_at: datetime | None
    worker_id: str | None


def current_task() -> TaskContext:
    """The task running in this thread or coroutine; NoTaskRunning outside one."""
    task = _running.get()
    if task is None:
        raise NoTaskRunning("current_task() is only available inside a task that taskkit runs")
    claim = current_claim()
    held = claim is not None and claim.task.id == task.id
    return TaskContext(
        id=task.id,
        name=task.name,
        group=task.group,
        attempt=claim.attempt if claim is not None and held else task.retry_count + 1,
        retry_count=task.retry_count,
        enqueued_at=_utc(task.created),
        due_at=_utc(task.due),
        scheduled_at=None if task.scheduled is None else _utc(task.scheduled),
        worker_id=claim.worker_id if claim is not None and held else None,
    )


@contextmanager
def running(task: Task) -> Iterator[None]:
    """Make ``task`` the current task inside the block."""
    token = _running.set(task)
    try:
        yield
    finally:
        _running.reset(token)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
