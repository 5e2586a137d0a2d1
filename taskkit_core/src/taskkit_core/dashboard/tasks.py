"""A group's tasks a page at a time, and what the task page shows of one task.

Pages come from job control's ``list_tasks`` (newest first, ``before`` the
last id of the previous page). It has no name filter, so filtering by name
reads pages of the group and keeps the matching rows, at most SCAN tasks
per view: a page that stops there says how far it looked and goes on from
there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..backend import Backend
from ..records import TaskInfo, TaskState

SCAN = 2000
"""The most tasks one filtered view reads."""

BATCH = 200


@dataclass(frozen=True)
class TaskPage:
    """Rows of one page; ``next_before`` continues after them (None: nothing older)."""

    rows: list[TaskInfo]
    next_before: str | None
    scanned: int | None = None  # filtered views: how many tasks were read


def task_page(
    jobs: Backend, group: str, state: TaskState, before: str | None, name: str, size: int
) -> TaskPage:
    """The ``size`` newest tasks of ``group`` in ``state`` older than ``before``."""
    if name:
        return _filtered(jobs, group, state, before, name, size)
    rows = jobs.list_tasks(state, group=group, limit=size + 1, before=before)
    more = len(rows) > size
    return TaskPage(rows[:size], rows[size - 1].task.id if more else None)


def _filtered(
    jobs: Backend, group: str, state: TaskState, before: str | None, name: str, size: int
) -> TaskPage:
    needle, found, scanned = name.casefold(), [], 0
    while scanned < SCAN:
        batch = jobs.list_tasks(state, group=group, limit=BATCH, before=before)
        for info in batch:
            scanned += 1
            before = info.task.id
            if needle in info.task.name.casefold():
                found.append(info)
                if len(found) == size:
                    return TaskPage(found, before, scanned)
        if len(batch) < BATCH:
            return TaskPage(found, None, scanned)
    return TaskPage(found, before, scanned)


@dataclass(frozen=True)
class Preview:
    """The start of a payload as text: what is shown, of how many bytes."""

    text: str
    shown: int
    total: int


def preview(data: bytes, cap: int) -> Preview:
    """At most ``cap`` bytes of ``data`` decoded as UTF-8 (undecodable bytes as U+FFFD)."""
    head = data[:cap]
    return Preview(head.decode("utf-8", errors="replace"), len(head), len(data))


@dataclass(frozen=True)
class Moment:
    """One point of a task's timeline."""

    at: float
    what: str


def timeline(info: TaskInfo) -> list[Moment]:
    """What happened to the task, in time order, as far as the backend keeps it."""
    task = info.task
    moments = [Moment(task.created, "created (put)")]
    if task.scheduled is not None:
        moments.append(Moment(task.scheduled, "schedule point"))
    moments.append(
        Moment(task.due, f"due{f' (retry {task.retry_count})' if task.retry_count else ''}")
    )
    if info.began is not None:
        moments.append(Moment(info.began, f"claimed, attempt {info.attempt}"))
    if info.finished is not None:
        moments.append(Moment(info.finished, info.state.value))
    return sorted(moments, key=lambda m: m.at)


def extra_fields(info: TaskInfo) -> dict[str, Any]:
    """Job control's new task fields, where the Task has them (priority, timeout, unique)."""
    names = ("priority", "timeout", "unique")
    return {n: getattr(info.task, n) for n in names if hasattr(info.task, n)}


def headers(info: TaskInfo) -> dict[str, str]:
    """The task's headers (empty before job control adds them)."""
    return dict(getattr(info.task, "headers", {}) or {})
