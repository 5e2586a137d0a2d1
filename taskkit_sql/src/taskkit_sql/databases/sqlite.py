"""SQLite 3.35+ (a file on one host) through the standard library's sqlite3.

- Sessions: autocommit, WAL journal (cut back to WAL_SIZE_LIMIT after
  checkpoints), a busy timeout, and ``synchronous`` as the options say. A
  writer takes the write lock up front (``BEGIN IMMEDIATE``, or the lone
  statement itself) instead of failing half-way.
- Time is the core's settable clock, bound as the parameter ``now``.
- A claim is one ``UPDATE ... RETURNING`` under ``BEGIN IMMEDIATE``
  (:class:`SqliteClaims`).
- Wake-ups: a thread watches the WAL file (see ``walwatch``).
- Locks: a lease row in ``<namespace>_locks`` (see ``locks.LeaseLock``).
- URLs name a file that must exist (``taskkit migrate`` creates it); an
  in-memory database is refused, as worker processes could not share it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import Insert, Integer, Table, select, update
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.types import TypeEngine
from taskkit_core.backend import Claim, Lock
from taskkit_core.clock import cur_ts
from taskkit_core.errors import ConfigurationError, StorageNotReady
from taskkit_core.url import mask_url

from ..changes import ChangeSource
from ..claims import Claims, LockThenRestore, claims_from
from ..driver import Prepared, fetch
from ..engine import Database
from ..locks import LeaseLock
from ..migrations import migrate_command
from ..options import SqlOptions
from ..schema import Tables
from ..statements import Statements
from ..urls import SqlURL
from ..walwatch import WalWatcher, wal_path
from .base import Family, Versions

WAL_SIZE_LIMIT = 16 * 1024 * 1024
"""Bytes an SQLite WAL file is cut back to when a checkpoint restarts it. Without a
limit the file keeps its high-water mark: a long reader, which holds checkpoints
back, would leave it hundreds of MiB large for good."""

MEMORY_HINT = (
    "an in-memory SQLite database cannot be shared with worker processes; "
    "use memory:// for an in-process store, or a file: sqlite:///tasks.db"
)


class SqliteFamily(Family):
    """SQLite (see the module docstring)."""

    title = "SQLite"
    minimum_versions: ClassVar[Versions] = {"SQLite": (3, 35)}  # UPDATE ... RETURNING
    begin_sql = "BEGIN IMMEDIATE"  # SERIALIZABLE by nature: one writer at a time

    def engine_arguments(self) -> dict[str, Any]:
        return {}  # pysqlite's autocommit is set when a connection is made

    def connect_arguments(self, options: SqlOptions) -> dict[str, Any]:
        return {"timeout": options.sqlite_busy_timeout, "check_same_thread": False}

    def set_up_connection(self, dbapi_connection: Any, options: SqlOptions) -> None:
        busy_ms = int(options.sqlite_busy_timeout * 1000)
        synchronous = {"normal": "NORMAL", "full": "FULL"}[options.sqlite_synchronous]
        dbapi_connection.isolation_level = None  # autocommit; taskkit issues BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.close()

    def check_url(self, raw: str, scheme: str, url: URL) -> None:
        database = url.database or ""
        if url.host:
            raise ConfigurationError(
                f"sqlite URL {mask_url(raw)!r} has a host part; use sqlite:///relative.db "
                "(three slashes) or sqlite:////absolute/path.db (four slashes)"
            )
        in_memory = database == ":memory:" or database.startswith("file::memory:")  # URI form
        if not database or in_memory or "mode=memory" in database:
            raise ConfigurationError(f"{mask_url(raw)!r}: {MEMORY_HINT}")
        if url.query.get("mode") == "memory":
            raise ConfigurationError(f"{mask_url(raw)!r}: {MEMORY_HINT}")

    def check_storage(self, url: SqlURL, options: SqlOptions) -> None:
        # Connecting would create an empty file; say what to run instead.
        database = url.sqlalchemy_url.database or ""
        if not database.startswith("file:") and not os.path.exists(database):
            raise StorageNotReady(
                f"the SQLite database {database!r} does not exist; create it and its tables "
                f"with: {migrate_command(url, options.namespace)}"
            )

    def server_version(self, dialect: Dialect) -> tuple[str, tuple[int, ...]]:
        return self.title, sqlite3.sqlite_version_info

    def change_source(
        self, db: Database, tables: Tables, url: SqlURL, scrub: Callable[[str], str]
    ) -> ChangeSource | None:
        path = wal_path(url.sqlalchemy_url.database or "")
        return WalWatcher(db, tables, path) if path is not None else None

    def insert(self, table: Table) -> Insert:
        from sqlalchemy.dialects import sqlite  # on first use (see base)

        return sqlite.insert(table)

    def claims(self, db: Database, tables: Tables, statements: Statements) -> Claims:
        return SqliteClaims(db, tables, statements)

    def lock(self, db: Database, tables: Tables, target: str) -> Lock:
        return LeaseLock(db, tables, target)

    def event_id_type(self) -> TypeEngine[Any]:
        return Integer()  # INTEGER PRIMARY KEY: the rowid itself

    def autoincrement_options(self) -> dict[str, Any]:
        return {"sqlite_autoincrement": True}  # else a deleted top rowid is handed out again

    def partial_index_options(self, where: Any) -> dict[str, Any]:
        return {"sqlite_where": where}


class SqliteClaims(LockThenRestore):
    """One UPDATE ... RETURNING under BEGIN IMMEDIATE (SQLite has one writer at a time)."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        claimable = select(t.c.id).where(self.due).order_by(*self.order).limit(self.limit)
        returned = [*self.task_columns, t.c.attempt, t.c.began]
        self.selection = Prepared.of(
            update(t)
            .where(t.c.id.in_(claimable))
            .values(began=self.now, **self.stage)
            .returning(*returned),
            db.dialect,
            returned,
        )

    def claim(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        params = {"b_group": group, "b_worker": worker_id, "b_limit": limit, "now": cur_ts()}
        rows = self.db.call(lambda cursor: fetch(cursor, self.selection, params), transaction=True)
        return claims_from(rows, worker_id)
