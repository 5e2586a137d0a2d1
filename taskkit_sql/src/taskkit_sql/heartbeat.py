"""The heartbeat: refresh the workers' leases, and hand back their pending cancel requests.

A cancel request for a staged task is a row of ``<ns>_cancel_requests``
naming the task, its worker and the attempt to stop (see ``control``). It
is pending while the task is still staged to that worker at that
attempt; once the attempt settles (or is restored) the row no longer
matches anything, so no write on the hot paths (claims, settles) has to
clear it. Rows are deleted when the attempt settles as CANCELLED, when a
restore cancels the task, and when the worker's lease is dropped or
purged.

The table is empty almost always, and the lookup reads it through its
``worker_id`` index: it never scans the staged tasks.

- PostgreSQL: one statement, the lease upsert (rows bound as arrays) and
  the lookup (see ``arrays``).
- SQLite and MySQL/MariaDB: the upsert per worker, then the lookup per
  worker, on one connection (MySQL has no RETURNING for an upsert).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Delete, bindparam, delete, exists, select
from sqlalchemy.engine import Connection
from taskkit_core.clock import cur_ts

from .arrays import ArrayStatements
from .driver import Prepared, fetch
from .engine import Database
from .schema import Tables
from .statements import Statements, state_is
from .states import STAGED


class Heartbeat:
    """Leases refreshed and cancel requests read, in as few round trips as the database allows."""

    def __init__(
        self, db: Database, tables: Tables, sql: Statements, arrays: ArrayStatements | None
    ) -> None:
        r, t = tables.cancel_requests, tables.tasks
        self._db = db
        self._arrays = arrays
        self._upsert = Prepared.of(sql.upsert_leases, db.dialect)
        # Driven by the (nearly empty) requests of the worker, each checked against
        # its task by primary key: never a walk over the staged tasks.
        current = exists().where(
            t.c.id == r.c.task_id,
            state_is(t.c.state, STAGED),
            t.c.worker_id == r.c.worker_id,
            t.c.attempt == r.c.attempt,
        )
        pending = select(r.c.task_id).where(
            r.c.worker_id == bindparam("b_worker", type_=r.c.worker_id.type), current
        )
        self.pending = Prepared.of(pending, db.dialect, [r.c.task_id])
        """The lookup of one worker's pending cancel requests (not on PostgreSQL)."""
        workers = bindparam("b_ids", expanding=True, type_=r.c.worker_id.type)
        self.forget_workers: Delete = delete(r).where(r.c.worker_id.in_(workers))

    def beat(self, worker_ids: Collection[str], ttl: float) -> list[str]:
        """Extend the leases to ``ttl`` s from now; the ids of their tasks to cancel."""
        ids = sorted(set(worker_ids))
        if not ids:
            return []
        if self._arrays is not None:
            params = {"workers": ids, "ttl": float(ttl)}
            sql = self._arrays.heartbeat
            rows = self._db.call(lambda cursor: _fetch_all(cursor, sql, params), idempotent=True)
            return sorted(task_id for (task_id,) in rows)
        return sorted(
            self._db.call(lambda cursor: self._beat_rows(cursor, ids, ttl), idempotent=True)
        )

    def _beat_rows(self, cursor: Any, ids: list[str], ttl: float) -> list[str]:
        upsert = self._upsert
        rows = [upsert.parameters({"b_id": w, "b_ttl": float(ttl), "now": cur_ts()}) for w in ids]
        if len(rows) == 1:
            cursor.execute(upsert.sql, rows[0])
        else:
            cursor.executemany(upsert.sql, rows)
        return [
            row.task_id
            for worker in ids
            for row in fetch(cursor, self.pending, {"b_worker": worker})
        ]

    def forget(self, conn: Connection, worker_ids: list[str]) -> None:
        """Delete the cancel requests of workers whose leases are gone."""
        conn.execute(self.forget_workers, {"b_ids": worker_ids})


def _fetch_all(cursor: Any, sql: str, params: dict[str, Any]) -> list[Any]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())
