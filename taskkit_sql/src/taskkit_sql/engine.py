"""Engines and transactions, with each database set up the way the backend needs it.

Connections run in autocommit, and taskkit opens a transaction itself only
where it needs one (:meth:`Database.write`: ``BEGIN IMMEDIATE`` on SQLite,
``BEGIN`` on PostgreSQL, ``START TRANSACTION`` on MySQL). A lone statement
(a heartbeat, a claim on PostgreSQL, a settle, a put on PostgreSQL, a read)
is then one round trip, and a connection goes back to the pool with no
transaction to roll back. Round trips matter beyond speed: each may wait for the GIL behind a
task's long C call, and the heartbeat is one of them.

Every engine hides bound parameters from error messages
(``hide_parameters=True``: payloads and names never reach a log line).
Pooled connections are not pinged before use (a ping is a round trip per
statement). Instead, an error that means the connection is gone (a
database restart, a connection closed while idle) drops the whole pool,
and :meth:`Database.call` runs an idempotent step once more on a fresh
connection; a step that is not idempotent (a claim, a settle) raises, and
the core retries it with its own backoff and safety nets (fencing, the
adoption of a claim whose answer was lost).

A lock conflict the server resolved by rolling the work back (MySQL's
deadlock 1213 and lock wait timeout 1205, PostgreSQL's deadlock 40P01)
left nothing behind, so :meth:`Database.call` and :meth:`Database.run`
run the work again after a short jittered pause, up to LOCK_RETRIES
times, and count each retry in ``Database.lock_retries`` (and log it on
``taskkit.sql`` at INFO). This needs work outside a transaction to be one
statement or idempotent, which every caller keeps to.

- SQLite: WAL journal (cut back to SQLITE_WAL_SIZE_LIMIT after checkpoints)
  and a busy timeout; a writer takes the write lock up front (``BEGIN
  IMMEDIATE``, or the lone statement itself) instead of failing half-way.
- PostgreSQL: READ COMMITTED.
- MySQL/MariaDB: READ COMMITTED (no gap locks) and a UTC session time zone.

A process never uses an engine it inherited through ``fork``: the child
drops the parent's pooled connections (without closing them, which would
disturb the parent) and opens its own.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .dialects import Family
from .options import SqlOptions
from .urls import SqlURL

TRANSACTION = "taskkit_transaction"
"""Execution option set by :meth:`Database.write`: open a real transaction."""

BEGIN = {"sqlite": "BEGIN IMMEDIATE", "postgresql": "BEGIN", "mysql": "START TRANSACTION"}

SERVER_STATUS_IN_TRANS = 1
"""MySQL protocol server status flag: a transaction is open."""

MYSQL_IO_TIMEOUT = 60
"""Seconds a MySQL read or write may block before the driver gives up."""

SQLITE_WAL_SIZE_LIMIT = 16 * 1024 * 1024
"""Bytes an SQLite WAL file is cut back to when a checkpoint restarts it. Without a
limit the file keeps its high-water mark: a long reader, which holds checkpoints
back, would leave it hundreds of MiB large for good."""

LOCK_RETRIES = 5
"""Times work rolled back by a deadlock or lock wait timeout is run again."""

LOCK_RETRY_PAUSE = 0.01
"""Seconds before the first such retry (doubled each time, with jitter)."""

MYSQL_LOCK_CONFLICTS = {1213: "deadlock (MySQL 1213)", 1205: "lock wait timeout (MySQL 1205)"}
POSTGRES_LOCK_CONFLICTS = {"40P01": "deadlock (PostgreSQL 40P01)"}

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()

T = TypeVar("T")

logger = logging.getLogger("taskkit.sql")


def _forget_inherited_engines() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_engines)


def make_engine(url: SqlURL, options: SqlOptions, *, pooled: bool = True) -> Engine:
    """A new engine for ``url``; ``pooled=False`` for one-off work such as migrations."""
    family = url.family
    args: dict[str, Any] = (
        {
            "pool_size": options.pool_size,
            "max_overflow": options.max_overflow,
            "pool_timeout": options.pool_timeout,
        }
        if pooled
        else {"poolclass": NullPool}
    )
    if family.name != "sqlite":
        args["isolation_level"] = "AUTOCOMMIT"  # pysqlite's is set in on_connect below
    engine = create_engine(
        url.sqlalchemy_url,
        hide_parameters=True,
        pool_pre_ping=False,  # see the module docstring: reconnect on error instead
        pool_reset_on_return=None,  # nothing to reset: no transaction outlives write()
        connect_args=_connect_args(family, options),
        **args,
    )
    _set_up(engine, family, options)
    if family.name == "mysql":
        _skip_idle_rollbacks(engine)
    _ENGINES.add(engine)
    return engine


def _connect_args(family: Family, options: SqlOptions) -> dict[str, Any]:
    seconds = max(1, math.ceil(options.connect_timeout))
    if family.name == "sqlite":
        return {"timeout": options.sqlite_busy_timeout, "check_same_thread": False}
    if family.name == "postgresql":
        # Keepalives let an idle connection (the LISTEN one above all) notice a
        # vanished server in about a minute without sending queries.
        return {
            "connect_timeout": seconds,
            "application_name": "taskkit",
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    return {
        "connect_timeout": seconds,
        "read_timeout": MYSQL_IO_TIMEOUT,
        "write_timeout": MYSQL_IO_TIMEOUT,
        "charset": "utf8mb4",
        "init_command": "SET time_zone = '+00:00'",
    }


def _set_up(engine: Engine, family: Family, options: SqlOptions) -> None:
    begin = BEGIN[family.name]

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        if family.name == "sqlite":
            _set_up_sqlite(dbapi_connection, options)
        elif family.name == "mysql":
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(TRANSACTION, False):
            connection.exec_driver_sql(begin)


def _skip_idle_rollbacks(engine: Engine) -> None:
    """Send ROLLBACK only inside a transaction (PyMySQL sends it even when idle).

    SQLAlchemy rolls back when an autocommit connection closes; with PyMySQL
    that is a round trip for nothing. Its server status says whether a
    transaction is open; other drivers roll back as before.
    """
    dialect = engine.dialect
    roll_back = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        status = getattr(dbapi_connection, "server_status", None)
        if status is None or status & SERVER_STATUS_IN_TRANS:
            roll_back(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def _set_up_sqlite(dbapi_connection: Any, options: SqlOptions) -> None:
    busy_ms = int(options.sqlite_busy_timeout * 1000)
    synchronous = {"normal": "NORMAL", "full": "FULL"}[options.sqlite_synchronous]
    dbapi_connection.isolation_level = None  # autocommit; taskkit issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_SIZE_LIMIT}")
    cursor.close()


class Database:
    """An engine, and the ways the backend uses it: SQLAlchemy connections or driver cursors."""

    def __init__(self, engine: Engine, family: Family) -> None:
        self.engine = engine
        self.family = family
        self.dialect = engine.dialect
        self._begin = BEGIN[family.name]
        self.lock_retries: Counter[str] = Counter()
        """Retries after lock conflicts so far, by kind (see the module docstring)."""
        self._retries_lock = threading.Lock()

    def call(
        self, work: Callable[[Any], T], *, transaction: bool = False, idempotent: bool = False
    ) -> T:
        """``work(cursor)`` on a pooled connection's driver cursor; its return value.

        With ``transaction``, inside BEGIN (IMMEDIATE on SQLite) ... COMMIT,
        rolled back on any error; otherwise in autocommit. When the
        connection turns out to be dead, the pool is dropped and, if
        ``idempotent``, the work runs once more on a fresh connection.
        Work rolled back by a lock conflict runs again (module docstring).
        """
        return self._retrying(lambda: self._call_once(work, transaction), idempotent)

    def _retrying(self, once: Callable[[], T], idempotent: bool) -> T:
        conflicts = 0
        reconnected = False
        while True:
            try:
                return once()
            except DBAPIError as exc:
                kind = self._lock_conflict(exc)
                if kind is not None and conflicts < LOCK_RETRIES:
                    conflicts += 1
                    self._pause_after(kind, conflicts)
                    continue
                if reconnected or not (exc.connection_invalidated and idempotent):
                    raise
                reconnected = True
                logger.info("database connection lost; retrying once on a new one")

    def _lock_conflict(self, exc: DBAPIError) -> str | None:
        """The lock conflict that rolled the work back, or None for other errors."""
        orig: Any = exc.orig
        if self.family.name == "mysql":
            args = getattr(orig, "args", None) or (None,)
            return MYSQL_LOCK_CONFLICTS.get(args[0]) if isinstance(args[0], int) else None
        if self.family.name == "postgresql":
            return POSTGRES_LOCK_CONFLICTS.get(getattr(orig, "sqlstate", None) or "")
        return None

    def _pause_after(self, kind: str, conflicts: int) -> None:
        with self._retries_lock:
            self.lock_retries[kind] += 1
        pause = LOCK_RETRY_PAUSE * 2 ** (conflicts - 1) * random.uniform(0.5, 1.5)
        logger.info(
            "%s; running the work again in %.3f s (retry %d of %d)",
            kind,
            pause,
            conflicts,
            LOCK_RETRIES,
        )
        time.sleep(pause)

    def run(
        self,
        work: Callable[[Connection], T],
        *,
        transaction: bool = False,
        idempotent: bool = True,
    ) -> T:
        """``work(connection)`` on a SQLAlchemy connection (in a transaction if asked).

        Reads and idempotent writes (the default) run once more on a fresh
        connection when the first one turns out dead, and any work runs
        again after a lock conflict (see :meth:`call`).
        """
        return self._retrying(lambda: self._run_once(work, transaction), idempotent)

    def _run_once(self, work: Callable[[Connection], T], transaction: bool) -> T:
        with self.write() if transaction else self.single() as connection:
            return work(connection)

    def _call_once(self, work: Callable[[Any], T], transaction: bool) -> T:
        raw = self.engine.raw_connection()
        cursor: Any = None
        try:
            cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
            if transaction:
                cursor.execute(self._begin)
            result = work(cursor)
            if transaction:
                cursor.execute("COMMIT")
            return result
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._failed(exc, raw, cursor, transaction) from exc
        except BaseException:
            if transaction:
                _roll_back(cursor)
            raise
        finally:
            _close_cursor(cursor)
            raw.close()

    def _failed(self, exc: Any, raw: Any, cursor: Any, transaction: bool) -> BaseException:
        gone = self.dialect.is_disconnect(exc, raw.dbapi_connection, cursor)
        if gone:
            raw.invalidate(exc)
            self.engine.dispose()  # the other pooled connections died with it
        elif transaction:
            _roll_back(cursor)
        error = DBAPIError.instance(
            None,
            None,
            exc,
            self.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=gone,
            dialect=self.dialect,
        )
        assert isinstance(error, BaseException)
        return error

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits when the block ends, or rolls back on an error."""
        with self.engine.connect() as connection:
            connection.execution_options(**{TRANSACTION: True})
            with connection.begin():
                yield connection

    @contextmanager
    def single(self) -> Iterator[Connection]:
        """For one statement that is atomic by itself, or reads: autocommit."""
        with self.engine.connect() as connection:
            yield connection

    read = single

    def close(self) -> None:
        self.engine.dispose()


def _roll_back(cursor: Any) -> None:
    if cursor is None:
        return
    try:
        cursor.execute("ROLLBACK")
    except Exception:  # the connection is broken; the pool discards it
        logger.debug("rollback failed", exc_info=True)


def _close_cursor(cursor: Any) -> None:
    if cursor is None:
        return
    try:
        cursor.close()
    except Exception:  # a cursor of a broken connection
        logger.debug("closing a cursor failed", exc_info=True)
