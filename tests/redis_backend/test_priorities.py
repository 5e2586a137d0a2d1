"""Priorities on Redis: one queue per (group, priority), read highest first in one script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from taskkit_core.backend import Outcome
from taskkit_core.testing import make_task
from taskkit_redis.keys import Keys

OpenConnection = Callable[..., Any]


def namespace_keys(raw: redis.Redis, namespace: str) -> set[str]:
    """The names (after the prefix) of every key of the namespace."""
    prefix = Keys(namespace).prefix
    return {k.decode().removeprefix(prefix) for k in raw.scan_iter(match=f"{prefix}*")}


def test_a_claim_takes_the_highest_priority_then_the_earliest_due_then_the_smallest_id(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    due = 1_000.0  # long due, all of them
    tasks = [
        make_task(data=i, priority=p, due=due + d)
        for i, (p, d) in enumerate([(0, 0), (5, 2), (-3, 0), (5, 1), (100, 9), (-100, 0), (0, -1)])
    ]
    backend.put_tasks(*tasks)
    expected = sorted(tasks, key=lambda t: (-t.priority, t.due, t.id))
    assert [t.id for t in backend.get_queued_tasks("g", 10)] == [t.id for t in expected]
    claimed = [c.task.id for c in backend.claim_tasks("g", "w", 3)]
    claimed += [c.task.id for _ in range(4) for c in backend.claim_tasks("g", "w", 1)]
    assert claimed == [t.id for t in expected]


def test_a_higher_priority_task_not_yet_due_does_not_hold_back_a_due_one(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    later = make_task(priority=50, due=4_000_000_000.0)
    now = make_task(priority=-50)
    backend.put_tasks(later, now)
    assert [c.task.id for c in backend.claim_tasks("g", "w", 5)] == [now.id]
    assert backend.claim_tasks("g", "w", 5) == []


def test_retried_released_and_restored_tasks_go_back_to_their_priority(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    high, low = make_task(priority=9), make_task(priority=-9)
    backend.put_tasks(high, low)
    claims = {c.task.id: c for c in backend.claim_tasks("g", "w", 2)}
    backend.settle(Outcome.retried(claims[high.id], 0), Outcome.released(claims[low.id]))
    assert [t.id for t in backend.get_queued_tasks("g", 5)] == [high.id, low.id]
    (first,) = backend.claim_tasks("g", "dead", 1)
    assert first.task.id == high.id
    assert first.task.priority == 9
    assert [i.task_id for i in backend.restore_abandoned(5)] == [high.id]
    assert [c.task.id for c in backend.claim_tasks("g", "w", 5)] == [high.id, low.id]


def test_emptied_priority_queues_leave_no_keys(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    keys = Keys(namespace)
    tasks = [make_task(priority=p) for p in (3, 0, -4)]
    backend.put_tasks(*tasks)
    queues = {keys.queue("g", p).removeprefix(keys.prefix) for p in (3, 0, -4)}
    assert queues | {"qp:67", "groups"} <= namespace_keys(raw, namespace)
    backend.cancel_tasks(tasks[0].id)  # a cancelled task leaves its queue as a claim does
    backend.claim_tasks("g", "w", 5)
    left = namespace_keys(raw, namespace)
    assert not {k for k in left if k.startswith(("q:", "qp:"))}
    assert "groups" not in left
    assert backend.group_stats(0)[0].cancelled == 1


def test_status_counts_every_priority_of_a_group(open_connection: OpenConnection) -> None:
    backend = open_connection().backend
    soon = 4_000_000_000.0
    backend.put_tasks(make_task(priority=1), make_task(priority=-1, due=10.0), make_task(due=soon))
    (stats,) = backend.group_stats(0)
    assert (stats.queued, stats.due, stats.oldest_due) == (3, 2, 10.0)
