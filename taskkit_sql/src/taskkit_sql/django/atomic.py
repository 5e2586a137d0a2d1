"""Atomic enqueue: tasks put inside ``transaction.atomic()`` go through Django's own connection.

SQLAlchemy is handed the DB-API connection Django is using in this thread,
through an engine whose dialect never commits, rolls back or closes a
connection (those three are no-ops on it): the transaction stays Django's.
taskkit's inserts therefore run inside whatever Django has open, savepoints
of nested ``atomic`` blocks included (taskkit's own savepoints, for large
payloads, nest inside Django's), and a task exists if and only if Django
commits.

The SQLAlchemy dialect follows the driver module Django loaded (psycopg or
psycopg2, mysqlclient or PyMySQL installed as MySQLdb, sqlite3), so the
statements are those of the SQL backend, compiled for that driver.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool
from taskkit_core.backend import Backend
from taskkit_core.task import Task

from ._needs_django import django  # noqa: F401 - a clear line when Django is missing

DIALECTS = {
    ("postgresql", "psycopg"): "postgresql+psycopg",
    ("postgresql", "psycopg2"): "postgresql+psycopg2",
    ("mysql", "MySQLdb"): "mysql+mysqldb",
    ("mysql", "pymysql"): "mysql+pymysql",  # PyMySQL installed as MySQLdb
    ("sqlite", "sqlite3"): "sqlite+pysqlite",
}
"""(Django vendor, the driver module Django loaded) -> SQLAlchemy dialect and driver."""

_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


def in_atomic_block(alias: str) -> bool:
    """True inside ``transaction.atomic(using=alias)`` in this thread."""
    from django.db import connections

    return bool(connections[alias].in_atomic_block)


@contextmanager
def borrowed(alias: str) -> Iterator[Connection]:
    """A SQLAlchemy connection over this thread's Django connection to ``alias``."""
    from django.db import connections

    django_connection = connections[alias]
    django_connection.validate_no_broken_transaction()
    django_connection.ensure_connection()
    with _engine(alias, _dialect(django_connection)).connect() as connection:
        yield connection


def _dialect(django_connection: Any) -> str:
    driver = django_connection.Database.__name__.split(".")[0]
    return DIALECTS[(django_connection.vendor, driver)]


def _engine(alias: str, dialect: str) -> Engine:
    """One engine per alias and dialect; each checkout borrows the calling thread's connection."""
    from django.db import connections

    key = (alias, dialect)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_engine(
                URL.create(dialect),
                creator=lambda: connections[alias].connection,
                poolclass=NullPool,  # nothing to keep: Django keeps the connection
                pool_reset_on_return=None,
                hide_parameters=True,
            )
            _leave_transactions_to_django(engine)
            _engines[key] = engine
        return engine


def _leave_transactions_to_django(engine: Engine) -> None:
    """Commit, rollback and close become no-ops: Django ends what it began.

    SQLAlchemy would otherwise roll back when a connection goes back to the
    pool (and once after its first connect) and close it in the NullPool;
    savepoints are SQL statements and still work.
    """
    dialect = engine.dialect
    dialect.do_commit = _nothing  # type: ignore[method-assign]
    dialect.do_rollback = _nothing  # type: ignore[method-assign]
    dialect.do_close = _nothing  # type: ignore[method-assign]


def _nothing(dbapi_connection: Any) -> None:
    return None


class DjangoBackend:
    """The SQL backend of a Django database; in ``atomic()`` it puts through Django's connection.

    Everything but ``put_tasks`` (and the URL, which names the alias so that
    worker processes reopen it through Django's settings) is the SQL backend's.
    An explicit ``connection=`` is passed on as it is.
    """

    def __init__(self, backend: Backend, alias: str, url: str) -> None:
        self._backend = backend
        self.alias = alias
        self.url = url
        self.namespace = backend.namespace
        self.capabilities = backend.capabilities

    def __repr__(self) -> str:
        return f"DjangoBackend({self.alias!r}, {self._backend!r})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    @property
    def sql_backend(self) -> Backend:
        """The SQL backend underneath."""
        return self._backend

    def put_tasks(self, *tasks: Task, connection: Any = None) -> Any:
        if connection is None and in_atomic_block(self.alias):
            with borrowed(self.alias) as borrowed_connection:
                return self._backend.put_tasks(*tasks, connection=borrowed_connection)
        return self._backend.put_tasks(*tasks, connection=connection)
