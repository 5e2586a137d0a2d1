"""PostgreSQL 12+ through psycopg 3: SKIP LOCKED, RETURNING, arrays, advisory locks, LISTEN/NOTIFY.

- Sessions: autocommit, READ COMMITTED when taskkit opens a transaction
  (the server default), TCP keepalives so that an idle connection (the
  LISTEN one above all) notices a vanished server in about a minute.
- A claim is one statement (:class:`PostgresClaims`); puts and settles bind
  their rows as arrays (see ``arrays``).
- Wake-ups: NOTIFY on ``<namespace>_tasks`` and ``<namespace>_events``,
  heard by a LISTEN thread (see ``listener``).
- Locks: ``pg_try_advisory_lock`` on a connection kept while held, keyed by
  a stable 64-bit hash of namespace and name; freed when the session ends.
- Opening warns once per process and database when autovacuum is off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import Insert, Select, Table, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine
from taskkit_core.backend import Claim, Lock

from ..arrays import ArrayStatements
from ..changes import ChangeSource, channel_names
from ..claims import Claims, ClaimStatements, Restored, claims_from, restored_from
from ..driver import Prepared, fetch
from ..engine import Database
from ..listener import Listener
from ..locks import SessionLock, digest
from ..options import SqlOptions
from ..schema import Tables
from ..statements import Statements, state_is
from ..states import STAGED
from ..urls import SqlURL
from .base import Family, Versions, connect_timeout

logger = logging.getLogger("taskkit.sql")

DEADLOCK = "40P01"
"""The SQLSTATE of a deadlock the server broke by rolling one transaction back."""

_vacuum_checked: set[str] = set()
_vacuum_checked_lock = threading.Lock()


def advisory_key(namespace: str, target: str) -> int:
    """The signed 64-bit key of the advisory lock of ``target`` in ``namespace``."""
    return int.from_bytes(digest(namespace, target, size=8), "big", signed=True)


class PostgresqlFamily(Family):
    """PostgreSQL (see the module docstring)."""

    title = "PostgreSQL"
    minimum_versions: ClassVar[Versions] = {"PostgreSQL": (12,)}  # WITH ... AS MATERIALIZED
    now_sql: ClassVar[str] = "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)"

    def connect_arguments(self, options: SqlOptions) -> dict[str, Any]:
        return {
            "connect_timeout": connect_timeout(options),
            "application_name": "taskkit",
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }

    def lock_conflict(self, error: object) -> str | None:
        sqlstate = getattr(error, "sqlstate", None)
        return "deadlock (PostgreSQL 40P01)" if sqlstate == DEADLOCK else None

    def check_server(self, db: Database, url: SqlURL, tables: Tables) -> None:
        super().check_server(db, url, tables)
        warn_without_autovacuum(db, url, tables)

    def change_source(
        self, db: Database, tables: Tables, url: SqlURL, scrub: Callable[[str], str]
    ) -> ChangeSource | None:
        return Listener(db.engine, tables.namespace, scrub)

    def insert(self, table: Table) -> Insert:
        return postgresql.insert(table)

    def wake_statement(self, channel: str, payload: Any) -> Select[Any] | None:
        return select(func.pg_notify(channel, payload))

    def claims(self, db: Database, tables: Tables, statements: Statements) -> Claims:
        return PostgresClaims(db, tables, statements)

    def array_statements(self, db: Database, tables: Tables) -> ArrayStatements | None:
        tasks_channel, _ = channel_names(tables.namespace)
        return ArrayStatements(tables, db.dialect, self.now_sql, tasks_channel)

    def lock(self, db: Database, tables: Tables, target: str) -> Lock:
        key = advisory_key(tables.namespace, target)
        return SessionLock(
            db.engine, select(func.pg_try_advisory_lock(key)), select(func.pg_advisory_unlock(key))
        )

    @contextmanager
    def migration_lock(self, conn: Connection, url: SqlURL, namespace: str) -> Iterator[None]:
        """An advisory transaction lock: freed when the migration's transaction ends."""
        conn.execute(select(func.pg_advisory_xact_lock(advisory_key(namespace, "migrate"))))
        yield

    def name_type(self, length: int) -> TypeEngine[Any]:
        # The "C" collation compares bytes, and compares them faster in indexes.
        return postgresql.VARCHAR(length, collation="C")

    def partial_index_options(self, where: Any) -> dict[str, Any]:
        return {"postgresql_where": where}


class PostgresClaims(ClaimStatements):
    """One statement for a claim, one for a restore.

    A claim is a MATERIALIZED CTE ``SELECT id ... LIMIT n FOR UPDATE SKIP
    LOCKED`` joined by ``UPDATE ... FROM cte RETURNING``. (The ``WHERE id IN
    (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` form can stage more than n
    rows when the planner re-runs the subquery.)
    """

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        claimable = (
            select(t.c.id)
            .where(self.due)
            .order_by(*self.order)
            .limit(self.limit)
            .with_for_update(skip_locked=True)
            .cte("claimable")
            .prefix_with("MATERIALIZED")
        )
        returned = [*self.task_columns, t.c.attempt, t.c.began]
        self.selection = Prepared.of(
            update(t)
            .where(t.c.id == claimable.c.id)
            .values(began=self.now, **self.stage)
            .returning(*returned),
            db.dialect,
            returned,
        )
        abandoned = (
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
            .with_for_update(of=t, skip_locked=True)
            .cte("abandoned")
            .prefix_with("MATERIALIZED")
        )
        self._restore = (
            update(t)
            .where(t.c.id == abandoned.c.id, state_is(t.c.state, STAGED))
            .values(**self.requeue_or_cancel(t, abandoned.c.cancel))
            .returning(*abandoned.c)
        )

    def claim(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        params = {"b_group": group, "b_worker": worker_id, "b_limit": limit}
        rows = self.db.call(lambda cursor: fetch(cursor, self.selection, params))
        return claims_from(rows, worker_id)

    def restore(self, limit: int) -> list[Restored]:
        with self.db.single() as conn:
            rows = conn.execute(self._restore, {"b_limit": limit}).all()
            cancelled = [row.id for row in rows if row.cancel]
            if cancelled:
                conn.execute(self.forget_requests, {"b_ids": cancelled})
        return restored_from(rows)


def warn_without_autovacuum(db: Database, url: SqlURL, tables: Tables) -> None:
    """Log one warning per process and database when the server does not autovacuum.

    Every claim and settle leaves a dead entry in the claim index until
    VACUUM removes it, and claims walk past them: with autovacuum off and
    1,000,000 finished tasks, a drain ran 12x slower (benchmarks/RESULTS.md).
    """
    where = url.masked()
    with _vacuum_checked_lock:
        if where in _vacuum_checked:
            return
        _vacuum_checked.add(where)
    with db.read() as conn:
        setting = conn.exec_driver_sql("SHOW autovacuum").scalar()
    if setting != "on":
        logger.warning(
            "PostgreSQL at %s: autovacuum is off: claims slow down as finished tasks "
            "accumulate (each leaves dead index entries until VACUUM); turn it on or "
            "VACUUM %s regularly",
            where,
            tables.tasks.name,
        )
