"""Job control: cancel, retry and purge tasks; read one back; list them by state.

- ``cancel_tasks`` and ``retry_tasks`` lock the named rows (``FOR
  UPDATE``; SQLite's ``BEGIN IMMEDIATE`` serialises anyway) in id order,
  decide each by its state and change them in the same transaction, so
  each decision holds against concurrent claims (which skip locked rows)
  and settles (which wait). A queued task is cancelled at once; a staged
  one gets a row in ``cancel_requests`` for its worker and attempt (see
  ``heartbeat``).
- ``purge_tasks`` deletes in batches of PURGE_BATCH, each its own short
  transaction, with the unique-key rows naming those tasks.
- ``read_task`` and ``list_tasks`` read everything a TaskInfo holds in one
  statement, the result's size but never its bytes. A listing of a
  finished state and a group reads a page off ``tasks_list`` (see
  ``schema``) however many tasks are kept; without a group, and for queued
  and staged tasks, the database sorts the matching rows or walks the
  newest ids, as its planner finds cheaper.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Integer, Select, bindparam, delete, func, select, update
from sqlalchemy.engine import Connection
from taskkit_core.backend import CancelResult, RetryResult, TaskInfo, TaskState
from taskkit_core.clock import cur_ts
from taskkit_core.records import FINISHED_STATES, check_list_limit, check_purgeable
from taskkit_core.task import check_name

from .engine import Database
from .schema import ID_LENGTH, Tables, finished_only
from .statements import Statements, cancel_pending, state_is, task_from_row
from .states import (
    CANCELLED,
    FAILED,
    FINISHED_FROM,
    QUEUED,
    STAGED,
    STORED,
    stored_states,
    task_state,
)

CANCELLED_QUEUED = "cancelled before it started"
"""The error of a task cancelled while it was queued."""

IDS_PER_STATEMENT = 500
PURGE_BATCH = 1000
"""Tasks deleted per transaction by ``purge_tasks``."""

RETRYABLE = (FAILED, CANCELLED)

ABOVE_EVERY_ID = "\U0010ffff" * (ID_LENGTH + 1)
"""Greater than any task id (at most ID_LENGTH characters, compared byte for byte): the
first page of a listing is read as a page before it, so every page has one statement and
one plan (without the bound, planners without fresh statistics sorted a whole group)."""


class JobControl:
    """The job-control methods of one backend (see the module docstring)."""

    def __init__(self, db: Database, tables: Tables, sql: Statements) -> None:
        t, r = tables.tasks, tables.cancel_requests
        self._db = db
        self._sql = sql
        now = sql.now
        ids = bindparam("b_ids", expanding=True, type_=t.c.id.type)
        self._lock = (
            select(t.c.id, t.c.state, t.c.worker_id, t.c.attempt, t.c.group_name)
            .where(t.c.id.in_(ids))
            .order_by(t.c.id)
            .with_for_update()
        )
        self._cancel_queued = (
            update(t)
            .where(t.c.id.in_(ids), state_is(t.c.state, QUEUED))
            .values(
                state=CANCELLED,
                done_at=now,
                expires_at=now + t.c.ttl,
                result=None,
                error=bindparam("b_message", CANCELLED_QUEUED, type_=t.c.error.type),
            )
        )
        self._request = db.family.upsert(
            r,
            {
                "task_id": bindparam("b_task", type_=r.c.task_id.type),
                "worker_id": bindparam("b_worker", type_=r.c.worker_id.type),
                "attempt": bindparam("b_attempt", type_=Integer()),
            },
            ["worker_id", "attempt"],
        )
        self._retry = (
            update(t)
            .where(t.c.id.in_(ids), t.c.state.in_(RETRYABLE))
            .values(
                state=QUEUED,
                due=now,
                retry_count=0,
                attempt=0,
                worker_id=None,
                began=None,
                result=None,
                done_at=None,
                expires_at=None,
            )
        )
        pending = cancel_pending(tables)
        self._info_columns = [
            *sql.task_columns,
            t.c.state,
            t.c.attempt,
            t.c.worker_id,
            t.c.began,
            t.c.done_at,
            t.c.error,
            func.length(t.c.result).label("result_size"),
            (state_is(t.c.state, STAGED) & pending).label("cancel_requested"),
        ]
        self._read = select(*self._info_columns).where(t.c.id == bindparam("b_id"))
        self._lists: dict[tuple[int, bool], Select[Any]] = {}
        states = bindparam("b_states", expanding=True, type_=Integer())
        self._purgeable = (
            select(t.c.id)
            .where(t.c.group_name == bindparam("b_group"), t.c.state.in_(states))
            .where(finished_only(t.c.state))
            .limit(PURGE_BATCH)
        )
        self._purge = delete(t).where(t.c.id.in_(ids), t.c.state.in_(states))
        self._tables = tables

    # -- reading -----------------------------------------------------------------

    def read_task(self, task_id: str) -> TaskInfo | None:
        params = {"b_id": task_id}
        row = self._db.run(lambda conn: conn.execute(self._read, params).first())
        return None if row is None else info_from(row)

    def list_tasks(
        self, state: TaskState, group: str | None, limit: int, before: str | None
    ) -> list[TaskInfo]:
        number = STORED[TaskState(state)]
        params: dict[str, Any] = {
            "b_limit": check_list_limit(limit),
            "b_before": ABOVE_EVERY_ID if before is None else before,
        }
        if group is not None:
            params["b_group"] = check_name("group", group)
        statement = self._list_statement(number, group is not None)
        rows = self._db.run(lambda conn: conn.execute(statement, params).all())
        return [info_from(row) for row in rows]

    def list_statement(self, state: TaskState, grouped: bool) -> Select[Any]:
        """The statement of ``list_tasks`` (for tests that EXPLAIN it)."""
        return self._list_statement(STORED[TaskState(state)], grouped)

    def _list_statement(self, state: int, grouped: bool) -> Select[Any]:
        statement = self._lists.get((state, grouped))
        if statement is None:
            t = self._tables.tasks
            where = [state_is(t.c.state, state)]
            if state >= FINISHED_FROM:
                where.append(finished_only(t.c.state))  # the listing indexes' condition
            if grouped:
                where.append(t.c.group_name == bindparam("b_group"))
            where.append(t.c.id < bindparam("b_before", type_=t.c.id.type))
            statement = (
                select(*self._info_columns)
                .where(*where)
                .order_by(t.c.id.desc())
                .limit(bindparam("b_limit", type_=Integer()))
            )
            if state >= FINISHED_FROM and grouped:
                statement = self._db.family.read_through(statement, t, f"{t.name}_list")
            self._lists[(state, grouped)] = statement
        return statement

    # -- cancel, retry, purge -----------------------------------------------------

    def cancel_tasks(self, task_ids: Sequence[str]) -> dict[str, CancelResult]:
        ids = sorted(set(task_ids))

        def work(conn: Connection) -> dict[str, CancelResult]:
            answers: dict[str, CancelResult] = {}
            for chunk in _chunks(ids):
                answers.update(self._cancel_chunk(conn, chunk))
            return answers

        answers = self._db.run(work, transaction=True) if ids else {}
        return {task_id: answers.get(task_id, CancelResult.NOT_FOUND) for task_id in task_ids}

    def _cancel_chunk(self, conn: Connection, ids: list[str]) -> dict[str, CancelResult]:
        rows = conn.execute(self._lock, {"b_ids": ids}).all()
        queued = [row.id for row in rows if row.state == QUEUED]
        staged = [row for row in rows if row.state == STAGED]
        if queued:
            conn.execute(self._cancel_queued, {"b_ids": queued, "now": cur_ts()})
        if staged:
            requests = [
                {"b_task": row.id, "b_worker": row.worker_id, "b_attempt": row.attempt}
                for row in staged
            ]
            conn.execute(self._request, requests)
        answer = {QUEUED: CancelResult.CANCELLED, STAGED: CancelResult.REQUESTED}
        return {row.id: answer.get(row.state, CancelResult.FINISHED) for row in rows}

    def retry_tasks(self, task_ids: Sequence[str]) -> tuple[dict[str, RetryResult], set[str]]:
        """Each id's RetryResult, and the groups of the tasks queued again."""
        ids = sorted(set(task_ids))

        def work(conn: Connection) -> list[Any]:
            locked: list[Any] = []
            for chunk in _chunks(ids):
                rows = conn.execute(self._lock, {"b_ids": chunk}).all()
                retried = [row.id for row in rows if row.state in RETRYABLE]
                if retried:
                    conn.execute(self._retry, {"b_ids": retried, "now": cur_ts()})
                locked += rows
            return locked

        rows = self._db.run(work, transaction=True) if ids else []
        found = {
            row.id: RetryResult.QUEUED if row.state in RETRYABLE else RetryResult.NOT_RETRYABLE
            for row in rows
        }
        groups = {row.group_name for row in rows if row.state in RETRYABLE}
        answers = {task_id: found.get(task_id, RetryResult.NOT_FOUND) for task_id in task_ids}
        return answers, groups

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED_STATES) -> int:
        numbers = stored_states(check_purgeable(states))
        check_name("group", group)
        purged = 0
        params = {"b_group": group, "b_states": numbers}
        while True:
            batch = self._db.run(lambda conn: list(conn.execute(self._purgeable, params).scalars()))
            if batch:
                delete_batch = functools.partial(self._delete, ids=batch, states=numbers)
                purged += self._db.run(delete_batch, transaction=True)
            if len(batch) < PURGE_BATCH:
                return purged

    def _delete(self, conn: Connection, ids: list[str], states: list[int]) -> int:
        deleted = conn.execute(self._purge, {"b_ids": ids, "b_states": states}).rowcount
        conn.execute(self._sql.delete_unique_keys, {"b_ids": ids})
        return int(deleted)


def info_from(row: Any) -> TaskInfo:
    """A TaskInfo from a row of the task's columns and what ``read_task`` adds to them."""
    state = task_state(row.state)
    return TaskInfo(
        task=task_from_row(row),
        state=state,
        attempt=int(row.attempt),
        worker_id=row.worker_id,
        began=None if row.began is None else float(row.began),
        finished=float(row.done_at) if state.finished and row.done_at is not None else None,
        error=row.error,
        result_size=None if row.result_size is None else int(row.result_size),
        cancel_requested=bool(row.cancel_requested),
    )


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        yield ids[start : start + IDS_PER_STATEMENT]
