"""``current_task()``: what a running task knows about itself.

The worker's claim (``taskkit_core.current_claim``: worker id and attempt)
is the backbone; the app adds the task it is running, so the context also
works in eager mode, where there is no claim.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from ..errors import TaskkitError
from ..task import Task
from ..worker import current_claim
from ..worker.attempt import current_attempt

_running: ContextVar[Task | None] = ContextVar("taskkit_running_task", default=None)


class NoTaskRunning(TaskkitError, RuntimeError):
    """``current_task()`` was called outside a task run by taskkit."""


@dataclass(frozen=True)
class TaskContext:
    """The running task: ids, attempt and times (aware datetimes, UTC).

    ``attempt`` counts the claims of the task, 1 for the first run (and in
    eager mode); ``retry_count`` counts the retries its failures asked for.
    ``worker_id`` is None in eager mode. ``priority``, ``timeout`` and
    ``headers`` are the task's own. A sync task that should stop early at
    its timeout or on ``taskkit cancel`` looks at ``cancelled`` (or calls
    ``check_cancelled()``) now and then; an async task is cancelled for it.
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
    priority: int = 0
    timeout: float | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def cancelled(self) -> bool:
        """Whether this attempt was stopped (timeout or cancel request); its outcome is decided."""
        attempt = current_attempt()
        return attempt is not None and attempt.claim.task.id == self.id and attempt.cancelled

    def check_cancelled(self) -> None:
        """Raise TaskTimeout or TaskCancelled once this attempt was stopped; else return."""
        attempt = current_attempt()
        if attempt is not None and attempt.claim.task.id == self.id:
            attempt.check_cancelled()


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
        priority=task.priority,
        timeout=task.timeout,
        headers=task.headers,
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
