"""Claims under concurrency: each task to one claimer, never more than asked, no waiting."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text
from taskkit_core.backend import Claim, Outcome
from taskkit_core.testing import OpenConnection, make_task
from taskkit_sql.backend import SqlBackend
from taskkit_sql.schema import build_tables
from taskkit_sql.states import STAGED

from .support import ON_EVERY_DATABASE, ON_SERVERS, as_sql, plain_engine

CLAIMERS = 16
TASKS = 1200


def _run_threads(count: int, target: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


@ON_EVERY_DATABASE
def test_sixteen_claimers_with_their_own_engines_get_each_task_once(
    backend: SqlBackend, taskkit_open: OpenConnection
) -> None:
    tasks = [make_task(data=i) for i in range(TASKS)]
    backend.put_tasks(*tasks)
    claimers = [as_sql(taskkit_open().backend) for _ in range(CLAIMERS)]  # an engine each
    claimed: list[list[Claim]] = [[] for _ in range(CLAIMERS)]

    def claim(index: int) -> None:
        worker = f"w{index}"
        while batch := claimers[index].claim_tasks("g", worker, 1 + index % 5):
            assert len(batch) <= 1 + index % 5
            claimed[index] += batch

    assert _run_threads(CLAIMERS, claim) == []
    ids = Counter(c.task.id for batch in claimed for c in batch)
    assert sorted(ids) == sorted(t.id for t in tasks)
    assert set(ids.values()) == {1}, "a task was claimed twice"
    assert {c.attempt for batch in claimed for c in batch} == {1}
    assert sum(len(batch) > 0 for batch in claimed) > 1, "more than one claimer got work"


@ON_EVERY_DATABASE
def test_a_claim_stages_exactly_what_it_returns(
    backend: SqlBackend, taskkit_open: OpenConnection, taskkit_url: str
) -> None:
    backend.put_tasks(*(make_task(data=i) for i in range(300)))
    rivals = [as_sql(taskkit_open().backend) for _ in range(3)]
    tasks = build_tables(backend.namespace).tasks
    staged_rows = select(func.count()).where(tasks.c.state == STAGED)
    returned: Counter[str] = Counter()

    def claim(index: int) -> None:
        for _ in range(40):
            worker = f"w{index}"
            returned[worker] += len(rivals[index].claim_tasks("g", worker, (1, 5, 50)[index]))

    assert _run_threads(3, claim) == []
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        for worker, count in returned.items():
            where = staged_rows.where(tasks.c.worker_id == worker)
            assert conn.execute(where).scalar() == count, worker
    assert sum(returned.values()) == 300


@ON_SERVERS
def test_a_locked_task_is_skipped_not_waited_for(backend: SqlBackend, taskkit_url: str) -> None:
    now = time.time()
    oldest, next_one = make_task(due=now - 20), make_task(due=now - 10)
    backend.put_tasks(oldest, next_one)
    table = build_tables(backend.namespace).tasks.name
    with plain_engine(taskkit_url) as engine, engine.connect() as conn, conn.begin():
        conn.execute(
            text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"),  # noqa: S608
            {"id": oldest.id.encode() if "mysql" in taskkit_url else oldest.id},
        )
        started = time.monotonic()
        (claim,) = backend.claim_tasks("g", "w1", 2)
        assert time.monotonic() - started < 2, "the claim waited for the row lock"
        assert claim.task.id == next_one.id
    (claim,) = backend.claim_tasks("g", "w1", 2)
    assert claim.task.id == oldest.id


@ON_EVERY_DATABASE
def test_concurrent_restorers_restore_each_task_once(
    backend: SqlBackend, taskkit_open: OpenConnection
) -> None:
    backend.put_tasks(*(make_task(data=i) for i in range(200)))
    while backend.claim_tasks("g", "dead-worker", 50):
        pass
    restorers = [as_sql(taskkit_open().backend) for _ in range(4)]
    restored: list[list[str]] = [[] for _ in range(4)]

    def restore(index: int) -> None:
        while infos := restorers[index].restore_abandoned(7):
            restored[index] += [info.task_id for info in infos]

    assert _run_threads(4, restore) == []
    every = [task_id for ids in restored for task_id in ids]
    assert len(every) == len(set(every)) == 200
    assert backend.get_stage_info(10) == []


@ON_EVERY_DATABASE
def test_tasks_of_a_claim_with_an_unknown_outcome_are_not_left_staged(
    backend: SqlBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit of a claim succeeded but its answer was lost: a forgotten claim, adopted."""
    assert isinstance(backend, SqlBackend)
    task = make_task()
    backend.put_tasks(task)
    claims = backend._claims
    real_claim = claims.claim

    def commit_then_lose_the_answer(group: str, worker_id: str, limit: int) -> list[Claim]:
        real_claim(group, worker_id, limit)
        raise ConnectionResetError("connection lost while reading the claim's answer")

    monkeypatch.setattr(claims, "claim", commit_then_lose_the_answer)
    with pytest.raises(ConnectionResetError):
        backend.claim_tasks("g", "w1", 4)
    monkeypatch.setattr(claims, "claim", real_claim)
    (adopted,) = backend.claim_tasks("g", "w1", 4)
    assert (adopted.task.id, adopted.attempt) == (task.id, 1)
    assert backend.settle(Outcome.succeeded(adopted, b"done")) == [True]
    assert backend.claim_tasks("g", "w1", 4) == []
