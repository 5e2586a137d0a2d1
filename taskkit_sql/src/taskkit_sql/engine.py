"""Engines and transactions, with each database set up the way the backend needs it.

Connections run in autocommit, and taskkit opens a transaction itself only
where it needs one (:meth:`Database.write`: ``BEGIN IMMEDIATE`` on SQLite,
``BEGIN`` on PostgreSQL, ``START TRANSACTION`` on MySQL). A lone statement
(a heartbeat, a claim on PostgreSQL, one settle, a read) is then one round
trip, and a connection goes back to the pool with no transaction to roll
back. Round trips matter beyond speed: each may wait for the GIL behind a
task's long C call, and the heartbeat is one of them.

Every engine hides bound parameters from error messages
(``hide_parameters=True``: payloads and names never reach a log line). On
PostgreSQL and MySQL it checks a pooled connection before lending it
(``pool_pre_ping=True``), so after a database restart each dead connection
is replaced instead of failing; a SQLite file has no connection to lose.

- SQLite: WAL journal and a busy timeout; a writer takes the write lock up
  front (``BEGIN IMMEDIATE``, or the lone statement itself) instead of
  failing half-way.
- PostgreSQL: READ COMMITTED.
- MySQL/MariaDB: READ COMMITTED (no gap locks) and a UTC session time zone.

A process never uses an engine it inherited through ``fork``: the child
drops the parent's pooled connections (without closing them, which would
disturb the parent) and opens its own.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
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

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


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
        pool_pre_ping=family.name != "sqlite",
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
        return {"connect_timeout": seconds, "application_name": "taskkit"}
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
    cursor.close()


class Database:
    """An engine and the two ways the backend uses it."""

    def __init__(self, engine: Engine, family: Family) -> None:
        self.engine = engine
        self.family = family

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
