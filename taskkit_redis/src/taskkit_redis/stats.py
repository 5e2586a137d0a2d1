"""Per-group counts for ``taskkit status``: read in pages, never in one long script.

Status is a report, not a decision, so it reads without blocking the
server: queue sizes straight from each group's queue, staged (core's
``GroupStats.staged``) and finished counts by looking up the group of
each staged task and of each task finished since ``since``, a page at a
time. Counts taken while tasks move may be off by the tasks that moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskkit_core.backend import GroupStats

from taskkit_core import TaskState

from .keys import Field, Keys
from .records import number, text
from .states import read_state

if TYPE_CHECKING:
    from .client import RedisClient

PAGE = 1000


@dataclass
class _Counts:
    queued: int = 0
    due: int = 0
    staged: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    oldest_due: float | None = None

    def add_queue(self, queued: int, due: int, oldest: float | None) -> None:
        """Count one of the group's queues (one per priority)."""
        self.queued += queued
        self.due += due
        if oldest is not None and (self.oldest_due is None or oldest < self.oldest_due):
            self.oldest_due = oldest


def server_time(client: RedisClient) -> float:
    """The server's clock in float seconds since the epoch."""
    seconds, micros = client.time()
    return seconds + micros / 1_000_000


def group_stats(client: RedisClient, keys: Keys, since: float) -> list[GroupStats]:
    """Counts for every group with queued, staged or recently finished tasks, by name."""
    now = server_time(client)
    counts: defaultdict[str, _Counts] = defaultdict(_Counts)
    _count_queues(client, keys, now, counts)
    for group, state in _groups_of(client, keys, _members(client, keys.staged, "-inf")):
        if state is TaskState.STAGED:
            counts[group].staged += 1
    for group, state in _groups_of(client, keys, _members(client, keys.done, number(since))):
        if state is TaskState.SUCCEEDED:
            counts[group].done += 1
        elif state is TaskState.FAILED:
            counts[group].failed += 1
        elif state is TaskState.CANCELLED:
            counts[group].cancelled += 1
    return [
        GroupStats(group, c.queued, c.due, c.staged, c.done, c.failed, c.oldest_due, c.cancelled)
        for group, c in sorted(counts.items())
    ]


def _count_queues(client: RedisClient, keys: Keys, now: float, counts: dict[str, _Counts]) -> None:
    groups = [text(g) for g in client.smembers(keys.groups)]
    pipe = client.pipeline(transaction=False)
    for group in groups:
        pipe.zrange(keys.priorities(group), 0, -1)
    queues = [
        (group, keys.queue(group, int(p)))
        for group, priorities in zip(groups, pipe.execute(), strict=True)
        for p in [0, *priorities]
    ]
    for queue in (queue for _, queue in queues):
        pipe.zcard(queue)
        pipe.zcount(queue, "-inf", number(now))
        pipe.zrangebyscore(queue, "-inf", number(now), start=0, num=1, withscores=True)
    replies = pipe.execute()
    for index, (group, _) in enumerate(queues):
        queued, due, oldest = replies[3 * index : 3 * index + 3]
        if queued:
            counts[group].add_queue(int(queued), int(due), float(oldest[0][1]) if oldest else None)


def _members(client: RedisClient, key: str, low: str) -> Iterator[list[Any]]:
    """Pages of the members of sorted set ``key`` scored ``low`` or more."""
    offset = 0
    while page := client.zrangebyscore(key, low, "+inf", start=offset, num=PAGE):
        yield page
        offset += len(page)


def _groups_of(
    client: RedisClient, keys: Keys, pages: Iterator[list[Any]]
) -> Iterator[tuple[str, TaskState | None]]:
    """(group, state) of each task id in ``pages``; ids whose task is gone are skipped."""
    for page in pages:
        pipe = client.pipeline(transaction=False)
        for task_id in page:
            pipe.hmget(keys.task(text(task_id)), [Field.GROUP, Field.STATE])
        for group, state in pipe.execute():
            if group is not None:
                yield text(group), read_state(state)
