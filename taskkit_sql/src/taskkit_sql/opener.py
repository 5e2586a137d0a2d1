"""Opening a SQL backend: URL and options in, a checked Connection out.

Opening runs no DDL: it checks that the namespace's schema is at the
revision this package needs and raises StorageNotReady (with the command
to run) when it is missing or older. On the first open of a PostgreSQL
database in a process, one warning is logged when autovacuum is off.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any

from taskkit_core.backend import Connection
from taskkit_core.errors import BackendUnavailable, StorageNotReady
from taskkit_core.url import parse_url, scrub_password

from .backend import SqlBackend
from .dialects import MINIMUM_VERSIONS
from .engine import Database, make_engine
from .events import SqlEventBridge
from .listener import Listener
from .migrations import check_ready, migrate_command
from .options import OPTION_NAMES, SqlOptions, parse_options
from .schema import Tables, build_tables
from .urls import SqlURL, parse_sql_url
from .walwatch import WalWatcher, wal_path

logger = logging.getLogger("taskkit.sql")

_vacuum_checked: set[str] = set()
_vacuum_checked_lock = threading.Lock()


def resolve(url: str, options: Mapping[str, Any]) -> tuple[SqlURL, SqlOptions]:
    """The validated URL and options (ConfigurationError without the password)."""
    sql_url = parse_sql_url(url, OPTION_NAMES)
    return sql_url, parse_options(options, sql_url.query_options, sql_url.masked())


def scrubber(url: str) -> Callable[[str], str]:
    """A function that masks ``url``'s password in any text (for log lines)."""
    parsed = parse_url(url)
    return lambda text: scrub_password(parsed, text)


def open_sql(url: str, options: Mapping[str, Any]) -> Connection:
    """The backend and event bridge of ``url`` (see the module docstring)."""
    sql_url, opts = resolve(url, options)
    tables = build_tables(opts.namespace)
    _require_sqlite_file(sql_url, opts)
    db = Database(make_engine(sql_url, opts), sql_url.family)
    try:
        with db.read() as conn:
            check_ready(conn, tables, sql_url, opts.namespace)
        _check_server_version(db, sql_url)
        if sql_url.family.name == "postgresql":
            warn_without_autovacuum(db, sql_url, tables)
        listener = (
            Listener(db.engine, opts.namespace, scrubber(url))
            if sql_url.family.name == "postgresql"
            else None
        )
        changes = listener if listener is not None else _wal_watcher(db, tables, sql_url)
        backend = SqlBackend(url, sql_url.masked(), db, tables, listener, changes)
        bridge = SqlEventBridge(db, tables, listener, changes)
    except BaseException:
        db.close()
        raise
    return Connection(backend=backend, bridge=bridge)


def _wal_watcher(db: Database, tables: Tables, sql_url: SqlURL) -> WalWatcher | None:
    """The WAL watcher of an SQLite database file (None elsewhere, see ``walwatch``)."""
    if sql_url.family.name != "sqlite":
        return None
    path = wal_path(sql_url.sqlalchemy_url.database or "")
    return WalWatcher(db, tables, path) if path is not None else None


def _check_server_version(db: Database, sql_url: SqlURL) -> None:
    dialect = db.engine.dialect
    version: tuple[int, ...]
    if db.family.name == "sqlite":
        kind, version = "SQLite", sqlite3.sqlite_version_info
    else:
        kind = {"postgresql": "PostgreSQL", "mysql": "MySQL"}[db.family.name]
        kind = "MariaDB" if getattr(dialect, "is_mariadb", False) else kind
        version = tuple(int(part) for part in (dialect.server_version_info or ()))
    minimum = MINIMUM_VERSIONS[kind]
    if version < minimum:
        raise BackendUnavailable(
            f"{sql_url.masked()!r} runs {kind} {'.'.join(map(str, version))}; taskkit-sql "
            f"needs {kind} {'.'.join(map(str, minimum))} or later"
        )


def warn_without_autovacuum(db: Database, sql_url: SqlURL, tables: Tables) -> None:
    """Log one warning per process and database when the server does not autovacuum.

    Every claim and settle leaves a dead entry in the claim index until
    VACUUM removes it, and claims walk past them: with autovacuum off and
    1,000,000 finished tasks, a drain ran 12x slower (benchmarks/RESULTS.md).
    """
    where = sql_url.masked()
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


def _require_sqlite_file(sql_url: SqlURL, opts: SqlOptions) -> None:
    # Connecting would create an empty file; say what to run instead.
    database = sql_url.sqlalchemy_url.database or ""
    if sql_url.family.name != "sqlite" or database.startswith("file:"):
        return
    if not os.path.exists(database):
        raise StorageNotReady(
            f"the SQLite database {database!r} does not exist; create it and its tables "
            f"with: {migrate_command(sql_url, opts.namespace)}"
        )
