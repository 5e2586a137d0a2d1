"""A Task as a row of the tasks table, and back (see schema.py for the columns)."""

from __future__ import annotations

import json
from typing import Any

from taskkit_core import Task, TaskInfo, TaskState, Unique

TASK_COLUMNS = (
    "id, grp, name, data, due, created, scheduled, retry_count, ttl, "
    "priority, unique_key, unique_period, unique_states, timeout, headers"
)
"""The columns that make up a Task."""

PLACEHOLDERS = ", ".join("?" * len(TASK_COLUMNS.split(", ")))

INFO_COLUMNS = (
    f"{TASK_COLUMNS}, state, attempt, worker_id, began, done_at, error, "
    "length(result), cancel_requested"
)
"""The columns that make up a TaskInfo."""


def task_of(row: tuple[Any, ...]) -> Task:
    """The Task stored in a row that starts with TASK_COLUMNS."""
    (task_id, group, name, data, due, created, scheduled, retry_count, ttl) = row[:9]
    priority, key, period, states, timeout, headers = row[9:15]
    return Task(
        id=task_id,
        group=group,
        name=name,
        data=data,
        due=due,
        created=created,
        scheduled=scheduled,
        retry_count=retry_count,
        ttl=ttl,
        priority=priority,
        unique=None if key is None else Unique(key, period, states),
        timeout=timeout,
        headers=json.loads(headers),
    )


def params_of(task: Task) -> tuple[Any, ...]:
    """The values of TASK_COLUMNS for ``task``."""
    unique = task.unique
    return (
        task.id,
        task.group,
        task.name,
        task.data,
        task.due,
        task.created,
        task.scheduled,
        task.retry_count,
        task.ttl,
        task.priority,
        None if unique is None else unique.key,
        None if unique is None else unique.period,
        None if unique is None else unique.states,
        task.timeout,
        json.dumps(dict(task.headers)),
    )


def info_of(row: tuple[Any, ...]) -> TaskInfo:
    """The TaskInfo in a row of INFO_COLUMNS."""
    state, attempt, worker_id, began, done_at, error, size, requested = row[15:]
    return TaskInfo(
        task=task_of(row),
        state=TaskState(state),
        attempt=attempt,
        worker_id=worker_id,
        began=began,
        finished=done_at,
        error=error,
        result_size=size,
        cancel_requested=bool(requested),
    )
