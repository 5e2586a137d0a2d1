"""Tasks as Redis hash fields and script arguments, and back.

The fields and their order are ``keys.TASK_FIELDS``, which the scripts
receive too (``lua_layout``); the layout itself is documented in
:mod:`taskkit_redis.keys`. Floats are written with ``repr``, which reads
back to the same float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taskkit_core.backend import Claim, StageInfo
from taskkit_core.task import Task

Value = bytes | str


def number(value: float) -> str:
    """A float as text that reads back exactly (the form scripts receive)."""
    return repr(float(value))


def task_args(task: Task) -> list[Value]:
    """The 9 script arguments of a task: id, then the TASK_FIELDS values."""
    return [
        task.id,
        task.group,
        task.name,
        task.data,
        number(task.due),
        number(task.created),
        "" if task.scheduled is None else number(task.scheduled),
        str(int(task.retry_count)),
        number(task.ttl),
    ]


def text(value: Any) -> str:
    """A reply value (bytes) as text."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def decode_task(task_id: str, fields: Sequence[Any]) -> Task:
    """The task stored under ``task_id``, from its TASK_FIELDS values in order."""
    group, name, data, due, created, scheduled, retry_count, ttl = fields
    return Task(
        id=task_id,
        group=text(group),
        name=text(name),
        data=bytes(data),
        due=float(due),
        created=float(created),
        scheduled=float(scheduled) if scheduled else None,
        retry_count=int(retry_count),
        ttl=float(ttl),
    )


def decode_claim(row: Sequence[Any], worker_id: str) -> Claim:
    """A claim from one row of claim.lua: id, attempt, began, TASK_FIELDS."""
    task_id = text(row[0])
    return Claim(
        task=decode_task(task_id, row[3:]),
        worker_id=worker_id,
        attempt=int(row[1]),
        began=float(row[2]),
    )


def decode_stage_info(row: Sequence[Any]) -> StageInfo:
    """Stage info from one row of restore.lua: worker id, task id, began, attempt."""
    worker_id, task_id, began, attempt = row
    return StageInfo(
        worker_id=text(worker_id),
        task_id=text(task_id),
        began=float(began),
        attempt=int(attempt),
    )
