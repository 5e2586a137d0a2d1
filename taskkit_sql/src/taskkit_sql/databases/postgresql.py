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
- ``server_warnings`` says when autovacuum is off (worker processes log it at start).
- Behind a connection pooler (PgBouncer; :func:`behind_pooler` tells) a
  client's statements run on whichever server session is free, so session
  state does not last: such connections prepare no statements, and LISTEN
  and the session locks run on the ``direct_url`` engine. Without one,
  opening logs one warning: receivers poll and locks are lease rows (as on
  SQLite). Transaction-scoped work (claims, settles, the scheduler's
  compare-and-set, migrations' ``pg_advisory_xact_lock``) works through a
  transaction pooler as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import Insert, Select, Table, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine
from taskkit_core.backend import Claim, Lock
from taskkit_core.errors import ConfigurationError

from ..arrays import ArrayStatements
from ..changes import ChangeSource, channel_names
from ..claims import Claims, ClaimStatements, Restored, claims_from, restored_from
from ..driver import Prepared, fetch
from ..engine import Database, make_engine
from ..listener import Listener
from ..locks import LeaseLock, SessionLock, digest
from ..options import SqlOptions
from ..schema import Tables
from ..statements import Statements, state_is
from ..states import STAGED
from ..urls import SqlURL, parse_sql_url
from .base import Family, Versions, connect_timeout

logger = logging.getLogger("taskkit.sql")

DEADLOCK = "40P01"
"""The SQLSTATE of a deadlock the server broke by rolling one transaction back."""

_pooler_warned: set[str] = set()
_pooler_warned_lock = threading.Lock()


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

    def set_up_connection(self, dbapi_connection: Any, options: SqlOptions) -> None:
        if behind_pooler(dbapi_connection):
            # A prepared statement lives in one server session, which a transaction
            # pooler does not keep for this connection.
            dbapi_connection.prepare_threshold = None

    def check_options(self, options: SqlOptions, where: str) -> None:
        if options.direct_url is not None:
            direct = parse_sql_url(options.direct_url, frozenset())
            if direct.family is not self:
                raise ConfigurationError(
                    f"direct_url must be a PostgreSQL URL, got {direct.masked()!r} (for {where!r})"
                )

    def set_up_sessions(self, db: Database, url: SqlURL, options: SqlOptions) -> None:
        """The ``direct_url`` engine if given; none behind a pooler (see the module docstring)."""
        if options.direct_url is not None:
            direct = parse_sql_url(options.direct_url, frozenset())
            db.session_engine = make_engine(direct, options)
            check_same_database(db, url, direct)
            return
        with db.read() as conn:
            pooled = behind_pooler(conn.connection.dbapi_connection)
        if pooled:
            db.session_engine = None
            warn_once_behind_pooler(url)

    def lock_conflict(self, error: object) -> str | None:
        sqlstate = getattr(error, "sqlstate", None)
        return "deadlock (PostgreSQL 40P01)" if sqlstate == DEADLOCK else None

    def server_warnings(self, db: Database, where: str, tables: Tables) -> list[str]:
        return autovacuum_warnings(db, where, tables)

    def change_source(
        self, db: Database, tables: Tables, url: SqlURL, scrub: Callable[[str], str]
    ) -> ChangeSource | None:
        if db.session_engine is None:
            return None  # behind a pooler without direct_url: receivers poll
        return Listener(db.session_engine, tables.namespace, scrub)

    def insert(self, table: Table) -> Insert:
        from sqlalchemy.dialects import postgresql  # on first use (see base)

        return postgresql.insert(table)

    def wake_statement(self, channel: str, payload: Any) -> Select[Any] | None:
        return select(func.pg_notify(channel, payload))

    def claims(self, db: Database, tables: Tables, statements: Statements) -> Claims:
        return PostgresClaims(db, tables, statements)

    def array_statements(self, db: Database, tables: Tables) -> ArrayStatements | None:
        tasks_channel, _ = channel_names(tables.namespace)
        return ArrayStatements(tables, db.dialect, self.now_sql, tasks_channel)

    def lock(self, db: Database, tables: Tables, target: str) -> Lock:
        if db.session_engine is None:
            return LeaseLock(db, tables, target)  # behind a pooler without direct_url
        key = advisory_key(tables.namespace, target)
        return SessionLock(
            db.session_engine,
            select(func.pg_try_advisory_lock(key)),
            select(func.pg_advisory_unlock(key)),
        )

    @contextmanager
    def migration_lock(self, conn: Connection, url: SqlURL, namespace: str) -> Iterator[None]:
        """An advisory transaction lock: freed when the migration's transaction ends."""
        conn.execute(select(func.pg_advisory_xact_lock(advisory_key(namespace, "migrate"))))
        yield

    def name_type(self, length: int) -> TypeEngine[Any]:
        # The "C" collation compares bytes, and compares them faster in indexes.
        from sqlalchemy.dialects import postgresql  # on first use (see base)

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


def behind_pooler(dbapi_connection: Any) -> bool:
    """Whether a connection pooler (PgBouncer or alike) answers for the server.

    At login PostgreSQL tells a client its session's process id, for cancel
    requests; a pooler makes one up, since its client's statements run in
    several server sessions. So the id given at login and the session's own
    (``pg_backend_pid()``) differ only behind a pooler.
    """
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (session_pid,) = cursor.fetchone()
    if not dbapi_connection.autocommit:
        dbapi_connection.rollback()  # leave no transaction behind the check
    return bool(session_pid != dbapi_connection.info.backend_pid)


def check_same_database(db: Database, url: SqlURL, direct: SqlURL) -> None:
    """ConfigurationError unless ``direct`` reaches the database ``url`` does."""
    name = select(func.current_database())
    assert db.session_engine is not None
    with db.read() as conn, db.session_engine.connect() as direct_conn:
        ours, theirs = conn.execute(name).scalar(), direct_conn.execute(name).scalar()
    if ours != theirs:
        raise ConfigurationError(
            f"direct_url {direct.masked()!r} reaches the database {theirs!r}, "
            f"not {ours!r} as {url.masked()!r} does"
        )


def warn_once_behind_pooler(url: SqlURL) -> None:
    """One warning per process and URL: what a pooler without direct_url costs, and the fix."""
    where = url.masked()
    with _pooler_warned_lock:
        if where in _pooler_warned:
            return
        _pooler_warned.add(where)
    logger.warning(
        "PostgreSQL at %s is reached through a connection pooler (PgBouncer or alike), "
        "where LISTEN and session locks do not last: workers poll for tasks and control "
        "events and locks are lease rows; for wake-ups at once pass the option direct_url="
        "<a URL of the same database on the server itself, or on a pooler in session mode>",
        where,
    )


def autovacuum_warnings(db: Database, where: str, tables: Tables) -> list[str]:
    """A warning when the server does not autovacuum (``where`` is the masked URL).

    Every claim and settle leaves a dead entry in the claim index until
    VACUUM removes it, and claims walk past them: with autovacuum off and
    1,000,000 finished tasks, a drain ran 12x slower (benchmarks/RESULTS.md).
    """
    with db.read() as conn:
        setting = conn.exec_driver_sql("SHOW autovacuum").scalar()
    if setting == "on":
        return []
    return [
        f"PostgreSQL at {where}: autovacuum is off: claims slow down as finished tasks "
        "accumulate (each leaves dead index entries until VACUUM); turn it on or "
        f"VACUUM {tables.tasks.name} regularly"
    ]
