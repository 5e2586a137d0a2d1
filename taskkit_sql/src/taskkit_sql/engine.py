"""Engines and transactions, with each database set up the way the backend needs it.

Every engine hides bound parameters from error messages
(``hide_parameters=True``: payloads and names never reach a log line) and
checks a pooled connection before lending it (``pool_pre_ping=True``), so
after a database restart the first use of each dead connection is
replaced by a fresh one instead of failing.

- SQLite: WAL journal, a busy timeout, and ``BEGIN IMMEDIATE`` for every
  write transaction (reads take a deferred ``BEGIN``), so a writer waits
  for the write lock up front instead of failing half-way.
- PostgreSQL: single statements (a claim, one settle) run in autocommit,
  one round trip each; several statements run in a READ COMMITTED
  transaction.
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

READ_ONLY = "taskkit_read_only"
"""Execution option: this SQLite connection only reads (deferred BEGIN)."""

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
    pool_args: dict[str, Any] = (
        {
            "pool_size": options.pool_size,
            "max_overflow": options.max_overflow,
            "pool_timeout": options.pool_timeout,
        }
        if pooled
        else {"poolclass": NullPool}
    )
    if family.isolation is not None and family.name != "postgresql":
        pool_args["isolation_level"] = family.isolation
    engine = create_engine(
        url.sqlalchemy_url,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args=_connect_args(family, options),
        **pool_args,
    )
    if family.name == "sqlite":
        _set_up_sqlite(engine, options)
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


def _set_up_sqlite(engine: Engine, options: SqlOptions) -> None:
    busy_ms = int(options.sqlite_busy_timeout * 1000)
    synchronous = {"normal": "NORMAL", "full": "FULL"}[options.sqlite_synchronous]

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # taskkit issues BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """An engine and the three ways the backend uses it."""

    def __init__(self, engine: Engine, family: Family) -> None:
        self.engine = engine
        self.family = family

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits when the block ends (BEGIN IMMEDIATE on SQLite)."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def single(self) -> Iterator[Connection]:
        """For one statement that is atomic by itself: autocommit where that saves trips."""
        if self.family.name != "postgresql":
            with self.write() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """For reads; never takes SQLite's write lock."""
        if self.family.name == "postgresql":
            with self.single() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            if self.family.name == "sqlite":
                connection.execution_options(**{READ_ONLY: True})
            yield connection

    def close(self) -> None:
        self.engine.dispose()
