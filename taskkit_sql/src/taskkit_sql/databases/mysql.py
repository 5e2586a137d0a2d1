"""MySQL 8.0.1+ and MariaDB 10.6+ through PyMySQL (or mysqlclient): SKIP LOCKED, GET_LOCK.

- Sessions: autocommit, READ COMMITTED (REPEATABLE READ, the server
  default, takes gap locks that make concurrent claimers and inserters
  deadlock; nothing here needs it) and a UTC time zone, so ``NOW(6)`` is
  unambiguous. Reads and writes give up after MYSQL_IO_TIMEOUT seconds.
  A deadlock (1213) or lock wait timeout (1205) is run again (see ``engine``).
- A claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE``, in one
  short transaction (:class:`MysqlClaims`).
- Names are VARBINARY holding UTF-8 (the default collations fold case,
  accents and trailing spaces; see ``columns``); payloads are LONGBLOB,
  written in pieces past PIECE bytes (see ``blobs``).
- With ``lower_case_table_names`` 1 or 2 the server compares table names
  without case and its catalog may show them folded: a namespace's exact
  name is then known from its record alone (see ``namespaces``).
- Locks: ``GET_LOCK(name, 0)`` on a connection kept while held; the name is
  a hash of database, namespace and lock name (GET_LOCK names are
  server-wide and at most 64 characters).
- Wake-ups: no LISTEN/NOTIFY, so one thread per backend looks for due tasks
  of the groups its workers wait on, often after activity and rarely when
  idle, and for new control events (``duewatch``); puts write nothing extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import Insert, Select, Table, bindparam, func, select, update
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.types import TypeEngine
from taskkit_core.backend import Claim, Lock

from ..blobs import PIECE
from ..changes import ChangeSource
from ..claims import Claims, LockThenRestore, in_claim_order
from ..driver import Prepared, execute, fetch
from ..duewatch import DueWatcher
from ..engine import Database
from ..locks import SessionLock, digest
from ..options import SqlOptions
from ..schema import Tables
from ..statements import Statements, state_is, task_from_row
from ..states import QUEUED
from ..urls import SqlURL
from .base import Condition, Family, Index, Versions, connect_timeout

MYSQL_IO_TIMEOUT = 60
"""Seconds a MySQL read or write may block before the driver gives up."""

SERVER_STATUS_IN_TRANS = 1
"""MySQL protocol server status flag: a transaction is open."""

LOCK_CONFLICTS = {1213: "deadlock (MySQL 1213)", 1205: "lock wait timeout (MySQL 1205)"}

MIGRATION_LOCK_SECONDS = 60
"""How long a migration waits for another one to finish."""


def lock_name(database: str, namespace: str, target: str) -> str:
    """A GET_LOCK name: 8 + 32 characters, distinct per database, namespace and name."""
    return f"taskkit:{digest(database, namespace, target, size=16).hex()}"


class MysqlFamily(Family):
    """MySQL and MariaDB (see the module docstring)."""

    title = "MySQL"
    # The oldest servers with FOR UPDATE SKIP LOCKED:
    minimum_versions: ClassVar[Versions] = {"MySQL": (8, 0, 1), "MariaDB": (10, 6)}
    begin_sql = "START TRANSACTION"
    now_sql = "UNIX_TIMESTAMP(NOW(6))"  # the session time zone is UTC
    piece_bytes = PIECE
    names_as_bytes = True

    def connect_arguments(self, options: SqlOptions) -> dict[str, Any]:
        return {
            "connect_timeout": connect_timeout(options),
            "read_timeout": MYSQL_IO_TIMEOUT,
            "write_timeout": MYSQL_IO_TIMEOUT,
            "charset": "utf8mb4",
            "init_command": "SET time_zone = '+00:00'",
        }

    def set_up_engine(self, engine: Engine) -> None:
        skip_idle_rollbacks(engine)

    def set_up_connection(self, dbapi_connection: Any, options: SqlOptions) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")

    def lock_conflict(self, error: object) -> str | None:
        code = (getattr(error, "args", None) or (None,))[0]
        return LOCK_CONFLICTS.get(code) if isinstance(code, int) else None

    def server_version(self, dialect: Dialect) -> tuple[str, tuple[int, ...]]:
        _, version = super().server_version(dialect)
        return ("MariaDB" if getattr(dialect, "is_mariadb", False) else "MySQL"), version

    def folds_table_names(self, conn: Connection) -> bool:
        # lower_case_table_names 1 stores names in lower case; 2 stores InnoDB's so too.
        return bool(conn.exec_driver_sql("SELECT @@lower_case_table_names").scalar())

    def insert(self, table: Table) -> Insert:
        from sqlalchemy.dialects import mysql  # on first use (see base)

        return mysql.insert(table)

    def on_conflict_ignore(self, statement: Any, table: Table) -> Insert:
        # Not INSERT IGNORE: that would also turn real errors into warnings.
        key = {column.name: statement.inserted[column.name] for column in table.primary_key}
        return statement.on_duplicate_key_update(**key)  # type: ignore[no-any-return]

    def on_conflict_update(
        self, statement: Any, table: Table, replace: Sequence[str], where: Condition | None
    ) -> Insert:
        if where is not None:
            raise NotImplementedError("ON DUPLICATE KEY UPDATE takes no condition")
        new = statement.inserted
        return statement.on_duplicate_key_update(**{name: new[name] for name in replace})  # type: ignore[no-any-return]

    def change_source(
        self, db: Database, tables: Tables, url: SqlURL, scrub: Callable[[str], str]
    ) -> ChangeSource | None:
        return DueWatcher(db, tables)

    def read_through(self, statement: Select[Any], table: Table, index: str) -> Select[Any]:
        # For ORDER BY ... LIMIT, MySQL and MariaDB may walk the primary key
        # backwards and filter, when the listing index gives the page directly.
        return statement.with_hint(table, f"FORCE INDEX ({index})", dialect_name="*")

    def claims(self, db: Database, tables: Tables, statements: Statements) -> Claims:
        return MysqlClaims(db, tables, statements)

    def lock(self, db: Database, tables: Tables, target: str) -> Lock:
        name = lock_name(db.engine.url.database or "", tables.namespace, target)
        return SessionLock(
            db.engine, select(func.get_lock(name, 0)), select(func.release_lock(name))
        )

    @contextmanager
    def migration_lock(self, conn: Connection, url: SqlURL, namespace: str) -> Iterator[None]:
        name = lock_name(url.sqlalchemy_url.database or "", namespace, "migrate")
        conn.execute(select(func.get_lock(name, MIGRATION_LOCK_SECONDS)))
        try:
            yield
        finally:
            conn.execute(select(func.release_lock(name)))

    def name_type(self, length: int) -> TypeEngine[Any]:
        # 4 bytes per character: a 400-character name takes 1600 bytes, which
        # keeps the claim index under InnoDB's 3072-byte key limit.
        from sqlalchemy.dialects import mysql  # on first use (see base)

        return mysql.VARBINARY(4 * length)

    def payload_type(self) -> TypeEngine[Any]:
        from sqlalchemy.dialects import mysql  # on first use (see base)

        return mysql.LONGBLOB()  # BLOB stops at 64 KiB

    def text_type(self) -> TypeEngine[Any]:
        from sqlalchemy.dialects import mysql  # on first use (see base)

        # UTF-8 whatever the table's default character set; compared byte for byte.
        return mysql.TEXT(charset="utf8mb4", collation="utf8mb4_bin")

    def create_indexes(self, op: Any, table: str, indexes: Sequence[Index]) -> None:
        """One ALTER TABLE for all (each ALTER rebuilds the table); no partial indexes."""
        quote = op.get_context().dialect.identifier_preparer.quote
        clauses = ", ".join(
            f"ADD INDEX {quote(name)} ({', '.join(quote(column) for column in columns)})"
            for name, columns, _condition in indexes
        )
        op.execute(f"ALTER TABLE {quote(table)} {clauses}")


def skip_idle_rollbacks(engine: Engine) -> None:
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


class MysqlClaims(LockThenRestore):
    """SELECT ... FOR UPDATE SKIP LOCKED, then UPDATE, in one READ COMMITTED transaction."""

    def __init__(self, db: Database, tables: Tables, statements: Statements) -> None:
        super().__init__(db, tables, statements)
        t = tables.tasks
        claimed_at = self.now.label("claimed_at")
        selected = [*self.task_columns, t.c.attempt, claimed_at]
        self.selection = Prepared.of(
            select(*selected)
            .where(self.due)
            .order_by(*self.order)
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
        def work(cursor: Any) -> list[Any]:
            rows = fetch(cursor, self.selection, {"b_group": group, "b_limit": limit})
            if rows:
                values = {f"i{k}": row.id for k, row in enumerate(rows)}
                values.update(b_worker=worker_id, b_began=rows[0].claimed_at)
                execute(cursor, self._stage(len(rows)), values)
            return rows

        rows = self.db.call(work, transaction=True)
        if not rows:
            return []
        # The rows were read before the UPDATE: the attempt is one more now.
        began = float(rows[0].claimed_at)
        return in_claim_order(
            [Claim(task_from_row(row), worker_id, int(row.attempt) + 1, began) for row in rows]
        )
