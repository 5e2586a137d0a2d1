"""Query plans: claims, listings and the heartbeat's lookup read an index, never the whole table.

Each test fills a namespace the way a busy deployment looks (tasks of
several priorities, groups and states), refreshes the planner's
statistics, and asks the database for the plan of the statement the
backend runs (``SqlBackend.explainable``): it must read the named index in
the order the statement wants, with no sort step.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import ColumnElement, select, text, update
from taskkit_core.testing import make_task
from taskkit_sql.backend import SqlBackend
from taskkit_sql.control import ABOVE_EVERY_ID
from taskkit_sql.driver import Prepared
from taskkit_sql.schema import build_tables
from taskkit_sql.states import FAILED, SUCCEEDED

from taskkit_core import Task, TaskState

from .support import ON_EVERY_DATABASE, as_sql, plain_engine

QUEUED_PER_GROUP = 3000
FINISHED = {"g0": 25_000, "g1": 10_000, "g2": 25_000}
"""Finished tasks per group; FAILED_PER_GROUP of each failed, the others succeeded."""

FAILED_PER_GROUP = 300
"""Enough that sorting a group's failed tasks costs more than reading a page in order,
and few enough (0.5%) that walking the finished tasks newest first costs more too."""


def _analyze(url: str, table: str) -> None:
    """Fresh planner statistics for ``table``."""
    with plain_engine(url) as engine, engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text(f"ANALYZE {table}"))
        elif url.startswith("mysql"):
            conn.execute(text(f"ANALYZE TABLE {table}"))
        else:
            conn.execute(text("ANALYZE"))


def _plan(backend: SqlBackend, prepared: Prepared, values: dict[str, Any]) -> list[str]:
    """The plan of ``prepared`` as lines of text (MySQL: one line per table read)."""
    family = backend.database.family.name
    explain = "EXPLAIN QUERY PLAN " if family == "sqlite" else "EXPLAIN "
    raw = backend.database.engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(explain + prepared.sql, prepared.parameters(values))
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        raw.close()
    if family == "postgresql":
        return [row["QUERY PLAN"] for row in rows]
    if family == "sqlite":
        return [row["detail"] for row in rows]
    return [f"{row['table']} key={row['key']} {row['Extra']}" for row in rows]


def _reads_index_in_order(plan: list[str], index: str, named: bool = True) -> None:
    """An index is read in order (``index`` if ``named``): no sort, no scan of the tasks table."""
    shown = "\n".join(plan)
    assert index in shown or not named, shown
    tasks = index.split("_tasks", maxsplit=1)[0] + "_tasks"
    for step in ("Sort", "TEMP B-TREE", "filesort", f"Seq Scan on {tasks} ", f"SCAN {tasks} "):
        assert step not in shown + " ", shown


def _reads_no_table_in_full(plan: list[str], namespace: str) -> None:
    tasks = f"{namespace}_tasks"
    shown = "\n".join(plan)
    for step in (f"Seq Scan on {tasks} ", f"{tasks} key=None"):
        assert step not in shown + " ", shown
    assert f"SCAN {tasks}" not in plan, shown  # SQLite's full scan, without an index


def _priorities(count: int, group: str, now: float) -> list[Task]:
    return [
        make_task(group=group, priority=(i % 7) * 10 - 30, due=now - 60 + (i % 50))
        for i in range(count)
    ]


@ON_EVERY_DATABASE
def test_a_claim_reads_the_due_tasks_off_the_claim_index_in_priority_order(
    backend: SqlBackend, taskkit_url: str, taskkit_namespace: str
) -> None:
    now = time.time()
    for group in ("g", "other"):
        backend.put_tasks(*_priorities(QUEUED_PER_GROUP, group, now))
    backend.put_tasks(*(make_task(group="g", priority=100, due=now + 3600) for _ in range(200)))
    _analyze(taskkit_url, f"{taskkit_namespace}_tasks")
    values = {"b_group": "g", "b_worker": "w", "b_limit": 8, "now": now}
    plan = _plan(backend, as_sql(backend).explainable()["claim"], values)
    _reads_index_in_order(plan, f"{taskkit_namespace}_tasks_claim")
    # And the order is the promised one: highest priority, then earliest due.
    claimed = backend.claim_tasks("g", "w", 8)
    assert [c.task.priority for c in claimed] == [30] * 8
    assert [c.task.due for c in claimed] == sorted(c.task.due for c in claimed)


def _finish(url: str, namespace: str, group: str, state: int, count: int | None) -> None:
    """Finish ``count`` queued tasks of ``group`` (None: all of them) in ``state``."""
    tasks = build_tables(namespace).tasks
    queued: ColumnElement[bool] = (tasks.c.group_name == group) & (tasks.c.state == 0)
    with plain_engine(url) as engine, engine.begin() as conn:
        if count is not None:
            picked = select(tasks.c.id).where(queued).limit(count)
            queued = tasks.c.id.in_(list(conn.execute(picked).scalars()))
        conn.execute(
            update(tasks)
            .where(queued)
            .values(state=state, done_at=time.time(), expires_at=time.time() + 60)
        )


@pytest.mark.parametrize("state", [TaskState.FAILED, TaskState.SUCCEEDED])
@ON_EVERY_DATABASE
def test_a_listing_of_finished_tasks_reads_a_page_off_a_listing_index(
    backend: SqlBackend, taskkit_url: str, taskkit_namespace: str, state: TaskState
) -> None:
    for group, count in FINISHED.items():
        for _ in range(count // 5000):
            backend.put_tasks(*(make_task(group=group) for _ in range(5000)))
        _finish(taskkit_url, taskkit_namespace, group, FAILED, FAILED_PER_GROUP)
        _finish(taskkit_url, taskkit_namespace, group, SUCCEEDED, None)
    _analyze(taskkit_url, f"{taskkit_namespace}_tasks")
    statements = as_sql(backend).explainable(state)
    values = {"b_group": "g1", "b_before": ABOVE_EVERY_ID, "b_limit": 50}  # the first page
    # Succeeded tasks are most of the table: walking the newest ids first finds a
    # page as soon (PostgreSQL may choose that); failed ones take the listing index.
    named = state is TaskState.FAILED
    plan = _plan(backend, statements["list_group"], values)
    _reads_index_in_order(plan, f"{taskkit_namespace}_tasks_list", named)
    # Without a group: an index either way (the newest ids, or the state's rows sorted).
    _reads_no_table_in_full(_plan(backend, statements["list"], values), taskkit_namespace)
    page = backend.list_tasks(state, group="g1", limit=50)
    assert len(page) == 50 and [i.task.id for i in page] == sorted(
        (i.task.id for i in page), reverse=True
    )


@ON_EVERY_DATABASE
def test_the_heartbeat_finds_cancel_requests_without_reading_the_staged_tasks(
    backend: SqlBackend, taskkit_url: str, taskkit_namespace: str
) -> None:
    backend.put_tasks(*(make_task() for _ in range(2000)))
    for worker in range(20):
        backend.claim_tasks("g", f"w{worker}", 50)
    (claim,) = backend.claim_tasks("g", "w-last", 1)
    backend.cancel_tasks(claim.task.id)
    _analyze(taskkit_url, f"{taskkit_namespace}_tasks")
    _analyze(taskkit_url, f"{taskkit_namespace}_cancel_requests")
    lookup = as_sql(backend).explainable()["cancel_requests"]
    plan = "\n".join(_plan(backend, lookup, {"b_worker": "w-last"}))
    assert f"{taskkit_namespace}_tasks_staged" not in plan, plan
    for step in (f"Seq Scan on {taskkit_namespace}_tasks ", f"SCAN {taskkit_namespace}_tasks "):
        assert step not in plan + " ", plan
    assert backend.refresh_leases(["w-last"], 30) == [claim.task.id]
