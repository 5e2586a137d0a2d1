"""Reading tasks back for operators: ``read_task`` and ``list_tasks``.

Finished tasks are listed from their indexes (``P ix:<state>`` and
``P ix:<state>:<hex group>``, see ``keys``), newest id first with
``ZRANGE ... BYLEX REV LIMIT``: a page costs the same with a million
finished tasks as with ten. Staged tasks are listed from ``P staged``
(bounded by what workers hold) and queued ones from the group's queues, read
whole in pages and sorted by id here: queues are ordered by due for claims,
and a second index kept on every put and claim would slow the hot path for
a listing that operators rarely page through.

The indexes of tasks finished by taskkit 0.3 are built lazily: the first
listing or purge of a namespace whose ``P layout`` is not yet ``2`` walks
``P done`` with ZSCAN and indexes each finished task (``index.lua``), then
sets ``P layout``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from taskkit_core.backend import TaskInfo, TaskState

from .keys import SEPARATOR, TASK_FIELDS, Field, Keys
from .queues import queue_keys
from .records import decode_task, optional_float, text
from .states import STORED, read_state

if TYPE_CHECKING:
    from .client import RedisClient
    from .scripts import Scripts

LAYOUT_VERSION = b"2"
"""The value of ``P layout`` once tasks finished by taskkit 0.3 are indexed."""

PAGE = 1000
"""Ids read per command when a listing reads a queue or the staged set whole."""

INFO_FIELDS = [
    *TASK_FIELDS,
    Field.STATE,
    Field.ATTEMPT,
    Field.WORKER,
    Field.BEGAN,
    Field.FINISHED,
    Field.ERROR,
    Field.CANCEL_REQUESTED,
]
"""The hash fields a TaskInfo is made of (and HSTRLEN of the result)."""


def read_infos(client: RedisClient, keys: Keys, task_ids: Sequence[str]) -> list[TaskInfo | None]:
    """The TaskInfo of each id, None where the task does not exist; one round trip."""
    if not task_ids:
        return []
    pipe = client.pipeline(transaction=True)
    for task_id in task_ids:
        pipe.hmget(keys.task(task_id), INFO_FIELDS)
        pipe.hstrlen(keys.task(task_id), Field.RESULT)
    replies = pipe.execute()
    return [
        decode_info(task_id, replies[2 * i], replies[2 * i + 1])
        for i, task_id in enumerate(task_ids)
    ]


def decode_info(task_id: str, row: Sequence[Any], result_size: int) -> TaskInfo | None:
    """A TaskInfo from the INFO_FIELDS values of a task hash; None when it is gone."""
    count = len(TASK_FIELDS)
    stored, attempt, worker, began, finished, error, requested = row[count:]
    state = read_state(stored)
    if state is None:
        return None
    return TaskInfo(
        task=decode_task(task_id, row[:count]),
        state=state,
        attempt=int(attempt or 0),
        worker_id=None if worker is None else text(worker),
        began=optional_float(began),
        finished=optional_float(finished),
        error=None if error is None or state is TaskState.SUCCEEDED else text(error),
        result_size=int(result_size) if state is TaskState.SUCCEEDED else None,
        cancel_requested=bool(requested),
    )


def list_tasks(
    client: RedisClient,
    keys: Keys,
    state: TaskState,
    group: str | None,
    limit: int,
    before: str | None,
) -> list[TaskInfo]:
    """Up to ``limit`` tasks in ``state`` (of ``group``), newest id first, ids < ``before``."""
    found: list[TaskInfo] = []
    candidates = _candidates(client, keys, state, group, limit, before)
    for ids in candidates:
        for info in read_infos(client, keys, ids):
            if info is not None and _matches(info, state, group):
                found.append(info)
        if len(found) >= limit:
            break
    return found[:limit]


def _matches(info: TaskInfo, state: TaskState, group: str | None) -> bool:
    """Whether a task read back is still in ``state`` (and of ``group``): tasks move."""
    return info.state is state and group in (None, info.task.group)


def _candidates(
    client: RedisClient,
    keys: Keys,
    state: TaskState,
    group: str | None,
    limit: int,
    before: str | None,
) -> Iterator[list[str]]:
    """Pages of ids that may be in ``state``, newest first; a task that moved is checked later."""
    if state.finished:
        return _indexed(client, keys, state, group, limit, before)
    if state is TaskState.STAGED:
        members = _staged(client, keys, group)
    else:
        members = _queued(client, keys, group)
    below = (m for m in members if before is None or m < before)
    return iter([heapq.nlargest(limit, below)])


def _indexed(
    client: RedisClient,
    keys: Keys,
    state: TaskState,
    group: str | None,
    limit: int,
    before: str | None,
) -> Iterator[list[str]]:
    """Pages of the state's index, newest first (entries of expired hashes are skipped later)."""
    index = keys.index(STORED[state], group)
    high = "+" if before is None else f"({before}"
    while page := client.zrange(index, high, "-", desc=True, bylex=True, offset=0, num=limit):
        members = [text(m) for m in page]
        ids = [m.split(SEPARATOR, 1)[0] for m in members] if group is None else members
        yield ids
        if len(page) < limit:
            return
        high = f"({members[-1]}"


def _staged(client: RedisClient, keys: Keys, group: str | None) -> Iterator[str]:
    for page in _pages(client, keys.staged):
        if group is None:
            yield from page
        else:
            yield from _of_group(client, keys, page, group)


def _of_group(client: RedisClient, keys: Keys, task_ids: list[str], group: str) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for task_id in task_ids:
        pipe.hget(keys.task(task_id), Field.GROUP)
    wanted = group.encode()
    return [i for i, g in zip(task_ids, pipe.execute(), strict=True) if g == wanted]


def _queued(client: RedisClient, keys: Keys, group: str | None) -> Iterator[str]:
    groups = [text(g) for g in client.smembers(keys.groups)] if group is None else [group]
    for name in groups:
        for queue in queue_keys(client, keys, name):
            for page in _pages(client, queue):
                yield from page


def _pages(client: RedisClient, key: str) -> Iterator[list[str]]:
    start = 0
    while page := client.zrange(key, start, start + PAGE - 1):
        yield [text(m) for m in page]
        start += PAGE


def ensure_indexed(client: RedisClient, keys: Keys, scripts: Scripts) -> None:
    """Index tasks finished before this layout (by taskkit 0.3), once per namespace."""
    if client.get(keys.layout) == LAYOUT_VERSION:
        return
    cursor = 0
    while True:
        cursor, members = client.zscan(keys.done, cursor, count=PAGE)
        if members:
            scripts.index(keys=[keys.done], args=[keys.prefix, *(text(m) for m, _ in members)])
        if cursor == 0:
            break
    client.set(keys.layout, LAYOUT_VERSION)
