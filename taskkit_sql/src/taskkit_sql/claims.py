"""Claiming due tasks and restoring abandoned ones, each database its own way.

A claim takes the oldest due tasks of a group (``ORDER BY due, id``) and
stages them to a worker with ``attempt + 1``, atomically, never more than
asked for, and without leaving a transaction open:

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

Claims are the hottest statements of a busy worker: they are compiled
once and run on the driver's cursor (see ``driver``). They are not retried
here after a lost connection (their outcome is unknown): the core retries,
and the backend adopts what a lost claim staged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Integer, Update, bindparam, exists, select, update
from sqlalchemy.engine import Connection
from taskkit_core.backend import Claim, StageInfo
from taskkit_core.clock import cur_ts

from .driver import Prepared, execute, fetch
from .engine import Database
from .schema import QUEUED, STAGED, Tables
from .statements import AnyRow, Statements, state_is, task_from_values


class Claims(Protocol):
    """The claim and restore strategy of one database family."""

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


def make_claims(db: Database, tables: Tables, statements: Statements) -> Claims:
    """The strategy for ``db``'s family (see the module docstring)."""
    if db.family.claim == "cte":
        return PostgresClaims(db, tables, statements)
    if db.family.claim == "lock_then_update":
        return MysqlClaims(db, tables, statements)
    return SqliteClaims(db, tables, statements)


def _claims_from(rows: Sequence[Sequence[Any]], worker_id: str) -> list[Claim]:
    """Claims from driver rows: the TASK_FIELDS, then attempt and began."""
    claims = [Claim(task_from_values(row), worker_id, int(row[9]), float(row[10])) for row in rows]
    return sorted(claims, key=lambda c: (c.task.due, c.task.id))


def _restored(rows: Sequence[AnyRow]) -> list[Restored]:
    restored = [
        Restored(StageInfo(r.worker_id, r.id, float(r.began), int(r.attempt)), r.group_name)
        for r in rows
    ]
    return sorted(restored, key=lambda r: (r.info.began, r.info.task_id))


class _Base:
    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        t, w = tables.tasks, tables.workers
        self.db = db
        self.now = now = statements.now
        self.task_columns = statements.task_columns
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


class PostgresClaims(_Base):
    """One statement for a claim, one for a restore."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        claimable = (
            select(t.c.id)
            .where(self.due)
            .order_by(t.c.due, t.c.id)
            .limit(self.limit)
            .with_for_update(skip_locked=True)
            .cte("claimable")
            .prefix_with("MATERIALIZED")
        )
        returned = [*self.task_columns, t.c.attempt, t.c.began]
        self._claim = Prepared.of(
            update(t)
            .where(t.c.id == claimable.c.id)
            .values(began=self.now, **self.stage)
            .returning(*returned),
            db.dialect,
            returned,
        )
        abandoned = (
            select(t.c.id, t.c.worker_id, t.c.began, t.c.attempt, t.c.group_name)
            .where(self.abandoned)
            .order_by(t.c.began, t.c.id)
            .limit(self.limit)
            .with_for_update(of=t, skip_locked=True)
            .cte("abandoned")
            .prefix_with("MATERIALIZED")
        )
        self._restore = (
            update(t)
            .where(t.c.id == abandoned.c.id, state_is(t.c.state, STAGED))
            .values(**self.requeue)
            .returning(*abandoned.c)
        )

    def claim(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        params = {"b_group": group, "b_worker": worker_id, "b_limit": limit}
        rows = self.db.call(lambda cursor: fetch(cursor, self._claim, params))
        return _claims_from(rows, worker_id)

    def restore(self, limit: int) -> list[Restored]:
        with self.db.single() as conn:
            rows = conn.execute(self._restore, {"b_limit": limit}).all()
        return _restored(rows)


class _LockThenRestore(_Base):
    """Restore as SELECT (locking where the database can) then UPDATE, in one transaction."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        self.ids = bindparam("b_ids", expanding=True, type_=t.c.id.type)
        self._abandoned = (
            select(t.c.id, t.c.worker_id, t.c.began, t.c.attempt, t.c.group_name)
            .where(self.abandoned)
            .order_by(t.c.began, t.c.id)
            .limit(self.limit)
            .with_for_update(skip_locked=True)
        )
        self._any_abandoned = select(t.c.id).where(self.abandoned).limit(1)
        staged = state_is(t.c.state, STAGED)
        self._requeue: Update = update(t).where(t.c.id.in_(self.ids), staged).values(**self.requeue)

    def restore(self, limit: int) -> list[Restored]:
        if not self._any_abandoned_stage():
            return []

        def work(conn: Connection) -> Sequence[AnyRow]:
            rows = conn.execute(self._abandoned, {"b_limit": limit, "now": cur_ts()}).all()
            if rows:
                conn.execute(self._requeue, {"b_ids": [r.id for r in rows]})
            return rows

        # Not idempotent (its answer says what it restored); runs again after a lock conflict.
        return _restored(self.db.run(work, transaction=True, idempotent=False))

    def _any_abandoned_stage(self) -> bool:
        """One plain read, so that the usual round takes no write lock.

        On SQLite the write lock is the whole database's: a restorer holding
        it while its own process waits for the GIL between statements would
        delay every heartbeat and claim behind it.
        """
        params = {"now": cur_ts()}
        found = self.db.run(lambda conn: conn.execute(self._any_abandoned, params).first())
        return found is not None


class MysqlClaims(_LockThenRestore):
    """SELECT ... FOR UPDATE SKIP LOCKED, then UPDATE, in one READ COMMITTED transaction."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        claimed_at = self.now.label("claimed_at")
        selected = [*self.task_columns, t.c.attempt, claimed_at]
        self._lock = Prepared.of(
            select(*selected)
            .where(self.due)
            .order_by(t.c.due, t.c.id)
            .limit(self.limit)
            .with_for_update(skip_locked=True),
            db.dialect,
            selected,
        )
        self._tasks = t
        self._stages: dict[int, Prepared] = {}

    def _stage(self, count: int) -> Prepared:
        """The UPDATE staging ``count`` locked tasks (ids bound as i0, i1, ...), compiled once."""
        prepared = self._stages.get(count)
        if prepared is None:
            t = self._tasks
            ids = [bindparam(f"i{k}", type_=t.c.id.type) for k in range(count)]
            statement = (
                update(t)
                .where(t.c.id.in_(ids), state_is(t.c.state, QUEUED))
                .values(began=bindparam("b_began"), **self.stage)
            )
            prepared = self._stages[count] = Prepared.of(statement, self.db.dialect)
        return prepared

    def claim(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        def work(cursor: Any) -> list[tuple[Any, ...]]:
            rows = fetch(cursor, self._lock, {"b_group": group, "b_limit": limit})
            if rows:
                values = {f"i{k}": row[0] for k, row in enumerate(rows)}
                values.update(b_worker=worker_id, b_began=rows[0][10])
                execute(cursor, self._stage(len(rows)), values)
            return rows

        rows = self.db.call(work, transaction=True)
        # The rows were read before the UPDATE: the attempt is one more now.
        staged = [(*row[:9], int(row[9]) + 1, float(rows[0][10])) for row in rows]
        return _claims_from(staged, worker_id)


class SqliteClaims(_LockThenRestore):
    """One UPDATE ... RETURNING under BEGIN IMMEDIATE (SQLite has one writer at a time)."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        claimable = select(t.c.id).where(self.due).order_by(t.c.due, t.c.id).limit(self.limit)
        returned = [*self.task_columns, t.c.attempt, t.c.began]
        self._claim = Prepared.of(
            update(t)
            .where(t.c.id.in_(claimable))
            .values(began=self.now, **self.stage)
            .returning(*returned),
            db.dialect,
            returned,
        )

    def claim(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        params = {"b_group": group, "b_worker": worker_id, "b_limit": limit, "now": cur_ts()}
        rows = self.db.call(lambda cursor: fetch(cursor, self._claim, params), transaction=True)
        return _claims_from(rows, worker_id)
