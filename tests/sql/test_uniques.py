"""Unique keys on SQL: atomic across threads and processes, and in an application transaction."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from taskkit_core.backend import Backend, PutResult
from taskkit_core.opening import connect
from taskkit_core.testing import make_task
from taskkit_sql.schema import build_tables

from taskkit_core import TaskState, Unique

from .support import ON_EVERY_DATABASE, plain_engine

PROCESSES = 4
THREADS = 8
"""4 x 8 connections at once: the shared test server (max_connections 100) also serves the
other tests running beside this one. The kit has 16 threads in one process too."""


def _put_at_once(url: str, namespace: str, key: str, start: Any, out: Any) -> None:
    """In a worker process: THREADS threads put a task with ``key`` at the same moment."""
    connection = connect(url, namespace=namespace)
    results: list[PutResult] = []
    ready = threading.Barrier(THREADS)

    def put() -> None:
        task = make_task(unique=Unique(key, states="active"))
        ready.wait()
        results.extend(connection.backend.put_tasks(task))

    threads = [threading.Thread(target=put) for _ in range(THREADS)]
    start.wait()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    connection.close()
    out.put([(r.task_id, r.created) for r in results])


def _tasks_in(url: str, namespace: str) -> int:
    tasks = build_tables(namespace).tasks
    with plain_engine(url) as engine, engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tasks)).scalar_one())


@ON_EVERY_DATABASE
def test_thirty_two_puts_of_one_key_from_four_processes_leave_exactly_one_task(
    backend: Backend, taskkit_url: str, taskkit_namespace: str
) -> None:
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_put_at_once, args=(taskkit_url, taskkit_namespace, "k", start, out))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    answers = [answer for _ in workers for answer in out.get(timeout=180)]
    for worker in workers:
        worker.join(60)
    assert len(answers) == PROCESSES * THREADS
    created = [task_id for task_id, created in answers if created]
    assert len(created) == 1, created
    assert {task_id for task_id, _ in answers} == set(created), "every duplicate names the holder"
    assert _tasks_in(taskkit_url, taskkit_namespace) == 1


@ON_EVERY_DATABASE
def test_a_key_put_in_an_application_transaction_holds_only_once_committed(
    backend: Backend, taskkit_url: str
) -> None:
    first, second = (make_task(unique=Unique("order-7")) for _ in range(2))
    with plain_engine(taskkit_url) as engine:
        with engine.connect() as conn, conn.begin() as transaction:
            (result,) = backend.put_tasks(first, connection=conn)
            assert result == PutResult(first.id, True)
            transaction.rollback()
        # The rolled-back put took nothing: the key is free.
        assert backend.put_tasks(second) == [PutResult(second.id, True)]
        with engine.begin() as conn:
            assert backend.put_tasks(first, connection=conn) == [PutResult(second.id, False)]
    assert backend.lookup_tasks(first.id)[first.id] is None


@ON_EVERY_DATABASE
def test_a_bulk_put_reports_each_duplicate_and_writes_the_rest_in_one_go(
    backend: Backend,
) -> None:
    holder = make_task(unique=Unique("a"))
    backend.put_tasks(holder)
    batch = [make_task(unique=Unique(key)) for key in ("a", "b", "b", "c")] + [make_task()]
    results = backend.put_tasks(*batch)
    assert [r.created for r in results] == [False, True, False, True, True]
    assert results[0].task_id == holder.id
    assert results[2].task_id == batch[1].id, "the second of a key in one call names the first"
    assert len(backend.list_tasks(TaskState.QUEUED, group="g")) == 4  # the holder, b, c, the last


@ON_EVERY_DATABASE
def test_a_purged_holder_frees_its_key_and_leaves_no_key_row(
    backend: Backend, taskkit_url: str, taskkit_namespace: str
) -> None:
    holder = make_task(unique=Unique("k"))
    backend.put_tasks(holder)
    backend.cancel_tasks(holder.id)  # finished: it no longer counts, and can be purged
    assert backend.purge_tasks("g") == 1
    unique_keys = build_tables(taskkit_namespace).unique_keys
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(unique_keys)).scalar_one()
    assert rows == 0
    again = make_task(unique=Unique("k"))
    assert backend.put_tasks(again) == [PutResult(again.id, True)]


@pytest.mark.parametrize("states", ["queued", "active"])
@ON_EVERY_DATABASE
def test_a_staged_holder_counts_only_for_active_keys(backend: Backend, states: str) -> None:
    holder = make_task(unique=Unique("k", states=states))  # type: ignore[arg-type]
    backend.put_tasks(holder)
    backend.claim_tasks("g", "w", 1)
    duplicate = make_task(unique=Unique("k", states=states))  # type: ignore[arg-type]
    (result,) = backend.put_tasks(duplicate)
    assert result.created is (states == "queued")
