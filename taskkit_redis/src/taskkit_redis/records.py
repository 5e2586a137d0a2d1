"""Tasks as Redis hash fields and script arguments, and back.

The fields and their order are ``keys.TASK_FIELDS``, which the scripts
receive too (``lua_layout``); the layout itself is documented in
:mod:`taskkit_redis.keys`. Floats are written with ``repr``, which reads
back to the same float. The optional fields travel in one argument, joined
by NUL ("" when each has its default, as for most tasks); one at its
default is not stored, so a task hash of taskkit 0.3 (which has none of
them) reads back as a task with every default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast

from taskkit_core.backend import Claim, StageInfo
from taskkit_core.task import Task, Unique, UniqueStates

from .keys import SEPARATOR

Value = bytes | str

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def number(value: float) -> str:
    """A float as text that reads back exactly (the form scripts receive)."""
    return repr(float(value))


def task_args(task: Task, with_options: bool = True) -> list[Value]:
    """The 10 script arguments of a task: id, the 8 required TASK_FIELDS, the options.

    Without ``with_options``, the first 9 (for a put whose tasks have none).
    """
    args: list[Value] = [
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
    if with_options:
        args.append(_options(task))
    return args


def has_options(task: Task) -> bool:
    """Whether any optional field of ``task`` differs from its default."""
    return bool(task.priority or task.timeout is not None or task.headers or task.unique)


def _options(task: Task) -> str:
    """priority, timeout, headers, unique key, period and states joined by NUL.

    "" when each has its default ("" stands for a default in each place too).
    """
    unique = task.unique
    if not has_options(task):
        return ""
    return SEPARATOR.join(
        (
            str(task.priority) if task.priority else "",
            "" if task.timeout is None else number(task.timeout),
            _encode_headers(task.headers) if task.headers else "",
            "" if unique is None else unique.key,
            "" if unique is None or unique.period is None else number(unique.period),
            "" if unique is None else unique.states,
        )
    )


def _encode_headers(headers: Mapping[str, str]) -> str:
    return json.dumps(dict(headers), ensure_ascii=False, separators=(",", ":"))


def text(value: Any) -> str:
    """A reply value (bytes) as text."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def optional_float(value: Any) -> float | None:
    """A stored float, None when the field is absent or empty."""
    return float(value) if value else None


def decode_task(task_id: str, fields: Sequence[Any]) -> Task:
    """The task stored under ``task_id``, from its TASK_FIELDS values in order."""
    (group, name, data, due, created, scheduled, retry_count, ttl,
     priority, timeout, headers, key, period, states) = fields  # fmt: skip
    required = (
        task_id,
        text(group),
        text(name),
        bytes(data),
        float(due),
        float(created),
        float(scheduled) if scheduled else None,
        int(retry_count),
        float(ttl),
    )
    if not (priority or timeout or headers or key):
        return Task(*required)  # most tasks: positional arguments are the fast call
    return Task(
        *required,
        priority=int(priority) if priority else 0,
        unique=_decode_unique(key, period, states) if key else None,
        timeout=optional_float(timeout),
        headers=json.loads(headers) if headers else _NO_HEADERS,
    )


def _decode_unique(key: Any, period: Any, states: Any) -> Unique:
    stored = text(states) if states else "queued"
    return Unique(text(key), optional_float(period), cast(UniqueStates, stored))


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
