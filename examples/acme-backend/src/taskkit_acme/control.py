"""Job control on acme://: cancel, retry, purge, read back and list tasks.

A mixin of AcmeBackend. Each step runs in one ``BEGIN IMMEDIATE``
transaction, so it is atomic against claims and settles of every process.
A cancel request for a staged task is the row's ``cancel_requested`` flag;
the worker hears of it from ``refresh_leases``, which reads it through a
partial index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from taskkit_core import (
    FINISHED_STATES,
    CancelResult,
    RetryResult,
    TaskInfo,
    TaskState,
    cur_ts,
)
from taskkit_core.records import check_list_limit, check_purgeable

from .database import Database
from .rows import INFO_COLUMNS, info_of
from .schema import Tables

PURGE_BATCH = 500
"""Rows one purge transaction deletes, so no writer waits long."""


class JobControl:
    """The job-control half of AcmeBackend."""

    _db: Database
    _t: Tables

    def read_task(self, task_id: str) -> TaskInfo | None:
        with self._db.read() as c:
            row = c.execute(
                f"SELECT {INFO_COLUMNS} FROM {self._t.tasks} WHERE id = ?", (task_id,)
            ).fetchone()
        return None if row is None else info_of(row)

    def list_tasks(
        self,
        state: TaskState,
        group: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[TaskInfo]:
        where, params = ["state = ?"], [TaskState(state).value]
        if group is not None:
            where.append("grp = ?")
            params.append(group)
        if before is not None:
            where.append("id < ?")
            params.append(before)
        with self._db.read() as c:  # the (state, grp, id) index, read backwards
            rows = c.execute(
                f"SELECT {INFO_COLUMNS} FROM {self._t.tasks} WHERE {' AND '.join(where)} "
                "ORDER BY id DESC LIMIT ?",
                (*params, check_list_limit(limit)),
            ).fetchall()
        return [info_of(row) for row in rows]

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]:
        with self._db.write() as c:
            return {task_id: self._cancel_one(c, task_id) for task_id in task_ids}

    def _cancel_one(self, c: sqlite3.Connection, task_id: str) -> CancelResult:
        row = c.execute(f"SELECT state FROM {self._t.tasks} WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            return CancelResult.NOT_FOUND
        state = TaskState(row[0])
        if state is TaskState.QUEUED:
            c.execute(
                f"UPDATE {self._t.tasks} SET state = 'cancelled', "
                "error = 'cancelled before it started', done_at = ? WHERE id = ?",
                (cur_ts(), task_id),
            )
            return CancelResult.CANCELLED
        if state is TaskState.STAGED:
            c.execute(f"UPDATE {self._t.tasks} SET cancel_requested = 1 WHERE id = ?", (task_id,))
            return CancelResult.REQUESTED
        return CancelResult.FINISHED

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]:
        with self._db.write() as c:
            return {task_id: self._retry_one(c, task_id) for task_id in task_ids}

    def _retry_one(self, c: sqlite3.Connection, task_id: str) -> RetryResult:
        cursor = c.execute(
            f"UPDATE {self._t.tasks} SET state = 'queued', due = ?, retry_count = 0, "
            "attempt = 0, worker_id = NULL, began = NULL, result = NULL, done_at = NULL "
            "WHERE id = ? AND state IN ('failed', 'cancelled')",
            (cur_ts(), task_id),
        )
        if cursor.rowcount == 1:
            return RetryResult.QUEUED
        found = c.execute(f"SELECT 1 FROM {self._t.tasks} WHERE id = ?", (task_id,)).fetchone()
        return RetryResult.NOT_RETRYABLE if found else RetryResult.NOT_FOUND

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED_STATES) -> int:
        values = sorted(state.value for state in check_purgeable(states))
        marks = ", ".join("?" * len(values))
        total = 0
        while True:
            with self._db.write() as c:
                deleted = c.execute(
                    f"DELETE FROM {self._t.tasks} WHERE id IN (SELECT id FROM {self._t.tasks} "
                    f"WHERE grp = ? AND state IN ({marks}) LIMIT ?)",
                    (group, *values, PURGE_BATCH),
                ).rowcount
            total += deleted
            if deleted < PURGE_BATCH:
                return total
