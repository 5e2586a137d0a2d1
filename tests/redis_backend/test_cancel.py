"""Cancellation on Redis: a queued task at once, a staged one through its worker's heartbeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from taskkit_core.backend import CancelResult, Outcome, TaskState
from taskkit_core.errors import Cancelled
from taskkit_core.testing import make_task
from taskkit_redis.keys import Keys

OpenConnection = Callable[..., Any]


def test_a_cancelled_queued_task_never_starts_and_its_result_raises_cancelled(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    task = make_task(due=4_000_000_000.0)
    backend.put_tasks(task)
    assert backend.cancel_tasks(task.id, "nope") == {
        task.id: CancelResult.CANCELLED,
        "nope": CancelResult.NOT_FOUND,
    }
    assert backend.cancel_tasks(task.id) == {task.id: CancelResult.FINISHED}
    assert backend.get_queued_tasks("g", 5) == []
    with pytest.raises(Cancelled, match="cancelled before it started"):
        backend.get_result(task.id)
    info = backend.read_task(task.id)
    assert (info.state, info.attempt, info.finished is not None) == (TaskState.CANCELLED, 0, True)
    assert task.id in backend.get_done_task_ids(None, None, 5)


def test_a_cancel_request_reaches_only_its_workers_heartbeat_until_the_attempt_settles(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    mine, other = make_task(data=1), make_task(data=2)
    backend.put_tasks(mine, other)
    claims = {c.task.id: c for c in backend.claim_tasks("g", "w1", 1)}
    claims |= {c.task.id: c for c in backend.claim_tasks("g", "w2", 1)}
    target = next(c for c in claims.values() if c.worker_id == "w1")
    assert backend.cancel_tasks(target.task.id) == {target.task.id: CancelResult.REQUESTED}
    assert backend.cancel_tasks(target.task.id) == {target.task.id: CancelResult.REQUESTED}
    assert backend.refresh_leases(["w2"], 10) == []
    assert backend.refresh_leases(["w1", "w2"], 10) == [target.task.id]
    assert backend.read_task(target.task.id).cancel_requested
    assert backend.settle(Outcome.cancelled(target, "stopped")) == [True]
    assert backend.refresh_leases(["w1"], 10) == []
    assert not raw.exists(Keys(namespace).cancel_requests("w1"))
    info = backend.read_task(target.task.id)
    assert (info.state, info.error, info.cancel_requested) == (
        TaskState.CANCELLED,
        "stopped",
        False,
    )


def test_an_outcome_settled_first_wins_over_a_cancel_request(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    backend.put_tasks(make_task())
    (claim,) = backend.claim_tasks("g", "w", 1)
    backend.cancel_tasks(claim.task.id)
    assert backend.settle(Outcome.succeeded(claim, b"done")) == [True]
    assert backend.settle(Outcome.cancelled(claim, "late")) == [False]
    assert backend.get_result(claim.task.id)[1] == b"done"
    assert backend.refresh_leases(["w"], 10) == []


def test_a_restored_task_with_a_cancel_request_is_cancelled_instead(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    queued_again, cancelled = make_task(data=1), make_task(data=2)
    backend.put_tasks(queued_again, cancelled)
    backend.claim_tasks("g", "dead", 2)
    backend.cancel_tasks(cancelled.id)
    restored = backend.restore_abandoned(5)
    assert {i.task_id for i in restored} == {queued_again.id, cancelled.id}
    assert backend.read_task(cancelled.id).state is TaskState.CANCELLED
    assert [t.id for t in backend.get_queued_tasks("g", 5)] == [queued_again.id]
    with pytest.raises(Cancelled, match="worker died"):
        backend.get_result(cancelled.id)


def test_a_purged_lease_takes_its_cancel_requests_along(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    backend.put_tasks(make_task())
    backend.refresh_leases(["w"], 0.001)
    (claim,) = backend.claim_tasks("g", "w", 1)
    backend.cancel_tasks(claim.task.id)
    assert raw.exists(Keys(namespace).cancel_requests("w"))
    backend.drop_leases(["w"])
    assert not raw.exists(Keys(namespace).cancel_requests("w"))
    assert backend.read_task(claim.task.id).cancel_requested, "the task still says so"
