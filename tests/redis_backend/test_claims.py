"""Claims: many claimers on their own connections, and forgotten claims (their reply was lost)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import pytest
import redis
from taskkit_core.backend import Claim, Outcome
from taskkit_core.testing import make_task

from taskkit_redis import RedisBackend

OpenConnection = Callable[..., Any]

CLAIMERS = 16
TASKS = 2000


def test_sixteen_claimers_on_their_own_connections_get_each_task_exactly_once(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    tasks = [make_task(data=i) for i in range(TASKS)]
    backend.put_tasks(*tasks)
    backends = [open_connection().backend for _ in range(CLAIMERS)]
    claimed: list[list[Claim]] = [[] for _ in range(CLAIMERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(CLAIMERS)

    def claimer(index: int) -> None:
        mine = backends[index]
        try:
            start.wait(30)
            while claims := mine.claim_tasks("g", f"w{index}", 1 + index % 4):
                claimed[index] += claims
                assert mine.settle(*(Outcome.succeeded(c, b"ok") for c in claims)) == [True] * len(
                    claims
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    every = [claim for claims in claimed for claim in claims]
    assert sorted(c.task.id for c in every) == sorted(t.id for t in tasks)
    assert {c.attempt for c in every} == {1}
    assert sum(1 for claims in claimed if claims) > 1, "the claimers really competed"
    assert len(backend.get_done_task_ids(None, None, TASKS + 1)) == TASKS
    assert backend.get_stage_info(10) == []


def _lose_replies(backend: RedisBackend) -> Callable[[], None]:
    """Make claims run on the server but lose their reply; returns the undo."""
    real = backend._scripts.claim

    def claim_and_lose_the_reply(**kwargs: Any) -> Any:
        real(**kwargs)  # the server staged the tasks ...
        raise redis.ConnectionError("connection lost")  # ... but the reply never came

    backend._scripts.claim = claim_and_lose_the_reply  # type: ignore[assignment]

    def undo() -> None:
        backend._scripts.claim = real

    return undo


def test_a_forgotten_claim_repeated_returns_what_it_staged(
    open_connection: OpenConnection,
) -> None:
    backend = cast(RedisBackend, open_connection().backend)
    backend.put_tasks(*(make_task(data=i) for i in range(5)))
    undo = _lose_replies(backend)
    with pytest.raises(redis.ConnectionError):
        backend.claim_tasks("g", "w", 3)
    undo()
    claims = backend.claim_tasks("g", "w", 3)
    assert len(claims) == 3
    assert {c.attempt for c in claims} == {1}
    assert sorted(i.task_id for i in backend.get_stage_info(10)) == sorted(
        c.task.id for c in claims
    )
    assert len(backend.claim_tasks("g", "w", 10)) == 2, "the next claim takes new tasks"


def test_a_repeated_claim_asking_for_fewer_gives_the_rest_back(
    open_connection: OpenConnection,
) -> None:
    backend = cast(RedisBackend, open_connection().backend)
    backend.put_tasks(*(make_task(data=i) for i in range(3)))
    undo = _lose_replies(backend)
    with pytest.raises(redis.ConnectionError):
        backend.claim_tasks("g", "w", 3)
    undo()
    (claim,) = backend.claim_tasks("g", "w", 1)
    assert [i.task_id for i in backend.get_stage_info(10)] == [claim.task.id]
    assert len(backend.get_queued_tasks("g", 10)) == 2
    assert backend.settle(Outcome.succeeded(claim, b"")) == [True]


def test_a_forgotten_claim_of_another_worker_or_group_is_not_returned(
    open_connection: OpenConnection,
) -> None:
    backend = cast(RedisBackend, open_connection().backend)
    backend.put_tasks(make_task(data=1), make_task(group="h", data=2))
    undo = _lose_replies(backend)
    with pytest.raises(redis.ConnectionError):
        backend.claim_tasks("g", "w", 1)
    undo()
    assert backend.claim_tasks("g", "other", 1) == []
    assert len(backend.claim_tasks("h", "w", 1)) == 1
    assert len(backend.claim_tasks("g", "w", 1)) == 1
