"""Unique keys on Redis: put.lua checks the holder and takes the key in one step."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from taskkit_core.backend import Outcome, TaskState
from taskkit_core.task import Unique
from taskkit_core.testing import make_task, wait_until
from taskkit_redis.keys import Keys

OpenConnection = Callable[..., Any]

RACER = Path(__file__).with_name("unique_racer.py")
PROCESSES, THREADS = 4, 16


def test_sixteen_threads_in_four_processes_putting_one_key_leave_exactly_one_task(
    redis_url: str, namespace: str, open_connection: OpenConnection, raw: redis.Redis
) -> None:
    open_connection()  # empties the namespace after the test
    start_at = str(time.time() + 3)  # every process is ready by then
    racers = [
        subprocess.Popen(
            [sys.executable, str(RACER), redis_url, namespace, str(THREADS), start_at],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    answers = [pair for racer in racers for pair in json.loads(racer.communicate(timeout=60)[0])]
    assert len(answers) == PROCESSES * THREADS
    created = [task_id for task_id, was_created in answers if was_created]
    assert len(created) == 1, answers
    assert {task_id for task_id, _ in answers} == set(created)
    tasks = list(raw.scan_iter(match=f"{Keys(namespace).prefix}t:*"))
    assert tasks == [Keys(namespace).task(created[0]).encode()]


def test_a_holder_blocks_only_in_its_states_and_its_period(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    active = Unique("a", states="active")
    first = make_task(unique=active)
    assert backend.put_tasks(first)[0].created
    (claim,) = backend.claim_tasks("g", "w", 1)
    assert backend.put_tasks(make_task(unique=active))[0].task_id == first.id  # staged counts
    backend.settle(Outcome.succeeded(claim, b""))
    second = make_task(unique=active)
    assert backend.put_tasks(second)[0].created, "a finished holder blocks nothing"

    short = make_task(unique=Unique("p", period=0.2))
    backend.put_tasks(short)
    assert not backend.put_tasks(make_task(unique=Unique("p")))[0].created
    wait_until(lambda: backend.put_tasks(make_task(unique=Unique("p")))[0].created, timeout=10)


def test_keys_are_scoped_to_the_group_and_a_bulk_put_reports_each_duplicate(
    open_connection: OpenConnection,
) -> None:
    backend = open_connection().backend
    a1, a2 = make_task(unique=Unique("k")), make_task(unique=Unique("k"))
    other = make_task(group="h", unique=Unique("k"))
    plain = make_task()
    results = backend.put_tasks(a1, a2, other, plain, a1)
    assert [(r.task_id, r.created) for r in results] == [
        (a1.id, True),
        (a1.id, False),
        (other.id, True),
        (plain.id, True),
        (a1.id, False),
    ]
    assert backend.lookup_tasks(a2.id)[a2.id] is None


def test_a_finished_discarded_or_cancelled_holder_frees_its_key(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    key = Keys(namespace).unique("g", "k")
    for end in ("succeeded", "discarded", "cancelled"):
        task = make_task(unique=Unique("k", states="active"))
        assert backend.put_tasks(task)[0].created, end
        assert raw.get(key) == task.id.encode()
        if end == "cancelled":
            backend.cancel_tasks(task.id)
        else:
            (claim,) = backend.claim_tasks("g", "w", 1)
            outcome = (
                Outcome.discarded(claim) if end == "discarded" else Outcome.succeeded(claim, b"")
            )
            backend.settle(outcome)
        assert not raw.exists(key), end


def test_a_key_with_a_period_expires_with_it(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    backend.put_tasks(make_task(unique=Unique("k", period=30)))
    assert 0 < raw.pttl(Keys(namespace).unique("g", "k")) <= 30_000


def test_a_retried_holder_takes_its_free_key_again(open_connection: OpenConnection) -> None:
    backend = open_connection().backend
    holder = make_task(unique=Unique("k"))
    backend.put_tasks(holder)
    (claim,) = backend.claim_tasks("g", "w", 1)
    backend.settle(Outcome.failed(claim, "boom"))
    assert backend.put_tasks(make_task(unique=Unique("k")))[0].created, "a failed holder is free"
    backend.cancel_tasks(*(i.task.id for i in backend.list_tasks(TaskState.QUEUED)))
    backend.retry_tasks(holder.id)
    assert backend.put_tasks(make_task(unique=Unique("k")))[0].task_id == holder.id
