"""Claiming due tasks and restoring abandoned ones: what every database's way shares.

A claim takes the due tasks of a group in claim order (``ORDER BY
neg_priority, due, id``: highest priority, then earliest due, then id,
read straight off the claim index; see ``schema``) and stages them to a
worker with ``attempt + 1``, atomically, never more than asked for, and
without leaving a transaction open:

- PostgreSQL, one statement: a MATERIALIZED CTE ``SELECT id ... LIMIT n FOR
  UPDATE SKIP LOCKED`` joined by ``UPDATE ... FROM cte RETURNING``. (The
  ``WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` form can stage
  more than n rows when the planner re-runs the subquery.)
- MySQL/MariaDB, one short READ COMMITTED transaction: ``SELECT ... FOR
  UPDATE SKIP LOCKED`` then ``UPDATE ... WHERE id IN (...)``.
- SQLite: ``BEGIN IMMEDIATE`` (the one writer) and one ``UPDATE ...
  RETURNING``.

Restoring puts staged tasks whose worker has no live lease back in the
queue. Liveness is checked inside the same statement (PostgreSQL) or
transaction that requeues, on rows locked against concurrent settles, so
a task is restored at most once per attempt; a worker whose lease was
refreshed meanwhile either keeps its task or finds its later writes
refused by fencing, never both. On MySQL/MariaDB and SQLite a plain read
comes first, so the usual round, which finds nothing, opens no transaction.
An abandoned task with a pending cancel request (one for its worker and
attempt, see ``cancels``) is cancelled instead of queued again, in the
same step.

Each family's ``claims`` hook (``databases/``) builds its strategy from the
pieces here. Claims are the hottest statements of a busy worker: they are compiled
once and run on the driver's cursor (see ``driver``). They are not retried
here after a lost connection (their outcome is unknown): the core retries,
and the backend adopts what a lost claim staged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Delete,
    Integer,
    Table,
    Update,
    bindparam,
    case,
    delete,
    exists,
    select,
    update,
)
from sqlalchemy.engine import Connection
from taskkit_core.backend import Claim, StageInfo
from taskkit_core.clock import cur_ts

from .driver import Prepared
from .engine import Database
from .schema import Tables
from .statements import AnyRow, Statements, cancel_pending, state_is, task_from_row
from .states import CANCELLED, QUEUED, STAGED

ABANDONED_CANCEL = "cancelled: its worker died before it could stop the task"
"""The error of a task cancelled by a restore (its cancel request was still pending)."""


class Claims(Protocol):
    """The claim and restore strategy of one database family."""

    @property
    def selection(self) -> Prepared:
        """The statement that picks the tasks to claim (tests EXPLAIN it).

        It takes ``b_group``, ``b_worker``, ``b_limit`` and ``now``.
        """
        ...

    def claim(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        """Stage up to ``limit`` due tasks of ``group`` to ``worker_id``."""
        ...

    def restore(self, limit: int) -> list[Restored]:
        """Requeue up to ``limit`` tasks staged to workers without a live lease."""
        ...


@dataclass(frozen=True)
class Restored:
    """A task put back in the queue: how it was staged, and its group (to wake workers)."""

    info: StageInfo
    group: str


def in_claim_order(claims: list[Claim]) -> list[Claim]:
    """``claims`` highest priority first, then oldest due, then by id (the claim order)."""
    return sorted(claims, key=lambda c: (-c.task.priority, c.task.due, c.task.id))


def claims_from(rows: Sequence[Any], worker_id: str) -> list[Claim]:
    """Claims from rows holding the TASK_FIELDS, ``attempt`` and ``began``."""
    return in_claim_order(
        [Claim(task_from_row(row), worker_id, int(row.attempt), float(row.began)) for row in rows]
    )


def restored_from(rows: Sequence[AnyRow]) -> list[Restored]:
    """What a restore put back (or cancelled), from rows of ``id, worker_id, began,
    attempt, group_name``."""
    restored = [
        Restored(StageInfo(r.worker_id, r.id, float(r.began), int(r.attempt)), r.group_name)
        for r in rows
    ]
    return sorted(restored, key=lambda r: (r.info.began, r.info.task_id))


class ClaimStatements:
    """The parts every claim and restore statement shares: due, staged and abandoned rows."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        t, w, r = tables.tasks, tables.workers, tables.cancel_requests
        self.db = db
        self.now = now = statements.now
        self.task_columns = statements.task_columns
        self.order = (t.c.neg_priority, t.c.due, t.c.id)
        self.limit = bindparam("b_limit", type_=Integer())
        self.due = (
            (t.c.group_name == bindparam("b_group"))
            & state_is(t.c.state, QUEUED)
            & (t.c.due <= now)
        )
        self.stage: dict[str, Any] = {
            "state": STAGED,
            "worker_id": bindparam("b_worker", type_=t.c.worker_id.type),
            "attempt": t.c.attempt + 1,
        }
        live = exists().where(w.c.id == t.c.worker_id, w.c.expires >= now)
        self.abandoned = state_is(t.c.state, STAGED) & ~live
        self.requeue = {"state": QUEUED, "worker_id": None, "began": None}
        self.cancel_pending = cancel_pending(tables)
        self.cancel = {
            "state": CANCELLED,
            "done_at": now,
            "expires_at": now + t.c.ttl,
            "result": None,
            "error": bindparam("b_message", ABANDONED_CANCEL, type_=t.c.error.type),
        }
        ids = bindparam("b_ids", expanding=True, type_=r.c.task_id.type)
        self.forget_requests: Delete = delete(r).where(r.c.task_id.in_(ids))

    def requeue_or_cancel(self, t: Table, cancel: ColumnElement[bool]) -> dict[str, Any]:
        """The values of one UPDATE that requeues a row, or cancels it where ``cancel``."""
        names = {*self.requeue, *self.cancel}
        return {
            name: case(
                (cancel, self.cancel.get(name, t.c[name])), else_=self.requeue.get(name, t.c[name])
            )
            for name in sorted(names)
        }


class LockThenRestore(ClaimStatements):
    """Restore as SELECT (locking where the database can) then UPDATE, in one transaction."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        self.ids = bindparam("b_ids", expanding=True, type_=t.c.id.type)
        self._abandoned = (
            select(
                t.c.id,
                t.c.worker_id,
                t.c.began,
                t.c.attempt,
                t.c.group_name,
                self.cancel_pending.label("cancel"),
            )
            .where(self.abandoned)
            .order_by(t.c.began, t.c.id)
            .limit(self.limit)
            .with_for_update(skip_locked=True)
        )
        self._any_abandoned = select(t.c.id).where(self.abandoned).limit(1)
        staged = state_is(t.c.state, STAGED)
        self._requeue: Update = update(t).where(t.c.id.in_(self.ids), staged).values(**self.requeue)
        self._cancel: Update = update(t).where(t.c.id.in_(self.ids), staged).values(**self.cancel)

    def restore(self, limit: int) -> list[Restored]:
        if not self._any_abandoned_stage():
            return []

        def work(conn: Connection) -> Sequence[AnyRow]:
            now = cur_ts()
            rows = conn.execute(self._abandoned, {"b_limit": limit, "now": now}).all()
            requeued = [r.id for r in rows if not r.cancel]
            cancelled = [r.id for r in rows if r.cancel]
            if requeued:
                conn.execute(self._requeue, {"b_ids": requeued})
            if cancelled:
                conn.execute(self._cancel, {"b_ids": cancelled, "now": now})
                conn.execute(self.forget_requests, {"b_ids": cancelled})
            return rows

        # Not idempotent (its answer says what it restored); runs again after a lock conflict.
        return restored_from(self.db.run(work, transaction=True, idempotent=False))

    def _any_abandoned_stage(self) -> bool:
        """One plain read, so that the usual round takes no write lock.

        On SQLite the write lock is the whole database's: a restorer holding
        it while its own process waits for the GIL between statements would
        delay every heartbeat and claim behind it.
        """
        params = {"now": cur_ts()}
        found = self.db.run(lambda conn: conn.execute(self._any_abandoned, params).first())
        return found is not None
