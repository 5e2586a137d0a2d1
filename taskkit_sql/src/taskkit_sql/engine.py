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

A lock conflict the server resolved by rolling the work back (a deadlock
or lock wait timeout, as the family's ``lock_conflict`` tells) left
nothing behind, so :meth:`Database.call` and :meth:`Database.run` run the
work again after a short jittered pause, up to LOCK_RETRIES
times, and count each retry in ``Database.lock_retries`` (and log it on
``taskkit.sql`` at INFO). This needs work outside a transaction to be one
statement or idempotent, which every caller keeps to.

Each family's hooks set its engines and sessions up (``databases/``:
connect arguments, session settings, the statement that starts a
transaction, which errors are lock conflicts).

A process never uses an engine it inherited through ``fork``: the child
drops the parent's pooled connections (without closing them, which would
disturb the parent) and opens its own.
"""

from __future__ import annotations

import logging
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

from .databases.base import Family
from .options import SqlOptions
from .urls import SqlURL

TRANSACTION = "taskkit_transaction"
"""Execution option set by :meth:`Database.write`: open a real transaction."""

LOCK_RETRIES = 5
"""Times work rolled back by a deadlock or lock wait timeout is run again."""

LOCK_RETRY_PAUSE = 0.01
"""Seconds before the first such retry (doubled each time, with jitter)."""

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
    engine = create_engine(
        url.sqlalchemy_url,
        hide_parameters=True,
        pool_pre_ping=False,  # see the module docstring: reconnect on error instead
        pool_reset_on_return=None,  # nothing to reset: no transaction outlives write()
        connect_args=family.connect_arguments(options),
        **family.engine_arguments(),
        **args,
    )
    _set_up(engine, family, options)
    family.set_up_engine(engine)
    _ENGINES.add(engine)
    return engine


def _set_up(engine: Engine, family: Family, options: SqlOptions) -> None:
    begin = family.begin_sql

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        family.set_up_connection(dbapi_connection, options)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(TRANSACTION, False):
            connection.exec_driver_sql(begin)


class Database:
    """An engine, and the ways the backend uses it: SQLAlchemy connections or driver cursors."""

    def __init__(self, engine: Engine, family: Family) -> None:
        self.engine = engine
        self.family = family
        self.dialect = engine.dialect
        self._begin = family.begin_sql
        self.session_engine: Engine | None = engine
        """The engine of work that needs a lasting server session (LISTEN, session locks);
        None where only a transaction pooler leads to the server (``Family.set_up_sessions``)."""
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
        return self.family.lock_conflict(exc.orig)

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
        if self.session_engine not in (None, self.engine):
            self.session_engine.dispose()
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
