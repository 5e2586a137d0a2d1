"""The base of every family: the portable behaviour, and the hooks a database overrides.

On the model of SQLAlchemy's dialects: the rest of taskkit-sql never asks
which database it talks to; it calls a hook of the URL's :class:`Family`
(``url.family``, ``Database.family``). A hook without a portable answer is
abstract; the others do what a server with ``ON CONFLICT`` upserts, plain
``BEGIN`` and no push notifications needs. ``taskkit_sql/README.md``
("Adding a database") lists them by concern.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    LargeBinary,
    Select,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.types import TypeEngine
from taskkit_core.backend import Lock
from taskkit_core.errors import BackendUnavailable, ConfigurationError
from taskkit_core.url import mask_url

from . import Registration

if TYPE_CHECKING:
    from ..arrays import ArrayStatements
    from ..changes import ChangeSource
    from ..claims import Claims
    from ..engine import Database
    from ..options import SqlOptions
    from ..schema import Tables
    from ..statements import Statements
    from ..urls import SqlURL

Versions = Mapping[str, tuple[int, ...]]
"""The oldest version of each kind of server (by its title) that taskkit-sql supports."""

Condition = Callable[[Any], ColumnElement[bool]]
"""A condition on an existing row, given the columns of the row that was to be inserted."""

Index = tuple[str, list[str], str | None]
"""An index of a migration: its name, its columns, and the condition of the rows it
keeps where the family has partial indexes (SQL such as ``state >= 2``; None: every row)."""


def connect_timeout(options: SqlOptions) -> int:
    """``connect_timeout`` in whole seconds, at least one (what drivers take)."""
    return max(1, math.ceil(options.connect_timeout))


class Family(ABC):
    """One kind of SQL database and how taskkit-sql uses it (one instance per family)."""

    title: ClassVar[str]
    """The database's own name, in messages (``PostgreSQL``)."""

    minimum_versions: ClassVar[Versions]
    """The oldest server of each kind (a title) that has every statement taskkit-sql runs."""

    begin_sql: ClassVar[str] = "BEGIN"
    """What starts a transaction taskkit opens itself (connections are in autocommit)."""

    now_sql: ClassVar[str | None] = None
    """The server clock as float seconds since the epoch, or None to bind the core's clock."""

    piece_bytes: ClassVar[int | None] = None
    """Bytes of a value one statement may carry (None: any size; see ``blobs``)."""

    names_as_bytes: ClassVar[bool] = False
    """Whether names are bound as UTF-8 bytes (see ``columns``)."""

    def __init__(self, registration: Registration) -> None:
        self.name = registration.name
        self.capabilities = registration.capabilities
        self.dialects = registration.dialects

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- connections (see ``engine``) ----------------------------------------------

    def engine_arguments(self) -> dict[str, Any]:
        """Extra ``create_engine`` arguments: autocommit, taskkit issues BEGIN itself."""
        return {"isolation_level": "AUTOCOMMIT"}

    @abstractmethod
    def connect_arguments(self, options: SqlOptions) -> dict[str, Any]:
        """The driver's ``connect()`` arguments (timeouts, keepalives, session set-up)."""

    def set_up_engine(self, engine: Engine) -> None:
        """Adjust a new engine (after taskkit's own listeners are in place)."""
        return None

    def set_up_connection(self, dbapi_connection: Any, options: SqlOptions) -> None:
        """Prepare a new driver connection (session settings, pragmas)."""
        return None

    def lock_conflict(self, error: object) -> str | None:
        """What a driver error says if the server rolled the work back on a lock conflict.

        A deadlock or lock wait timeout left nothing behind, so the work runs
        again (see ``engine``); None for any other error.
        """
        return None

    # -- URLs, opening and the server ----------------------------------------------

    def check_url(self, raw: str, scheme: str, url: URL) -> None:
        """Refuse a URL this database cannot use (ConfigurationError, password masked)."""
        if not url.database:
            raise ConfigurationError(
                f"the URL {mask_url(raw)!r} names no database; "
                f"add it as the path, e.g. {scheme}://user@host/dbname"
            )

    def check_options(self, options: SqlOptions, where: str) -> None:
        """Refuse options this database has no use for (ConfigurationError; ``where`` masked)."""
        if options.direct_url is not None:
            raise ConfigurationError(
                f"option direct_url is for PostgreSQL behind a connection pooler, "
                f"not for {self.title} ({where!r})"
            )

    def check_storage(self, url: SqlURL, options: SqlOptions) -> None:
        """Before connecting: refuse to open storage that connecting would create."""
        return None

    def server_version(self, dialect: Dialect) -> tuple[str, tuple[int, ...]]:
        """The kind of server (a key of ``minimum_versions``) and its version."""
        return self.title, tuple(int(part) for part in (dialect.server_version_info or ()))

    def set_up_sessions(self, db: Database, url: SqlURL, options: SqlOptions) -> None:
        """Choose ``db.session_engine``: where work that needs a lasting server session runs.

        LISTEN and session locks need one; here it is the backend's own engine.
        """
        return None

    def check_server(self, db: Database, url: SqlURL, tables: Tables) -> None:
        """After connecting: refuse a server too old (BackendUnavailable)."""
        kind, version = self.server_version(db.engine.dialect)
        minimum = self.minimum_versions[kind]
        if version < minimum:
            raise BackendUnavailable(
                f"{url.masked()!r} runs {kind} {'.'.join(map(str, version))}; taskkit-sql "
                f"needs {kind} {'.'.join(map(str, minimum))} or later"
            )

    def server_warnings(self, db: Database, where: str, tables: Tables) -> list[str]:
        """Server settings that can lose tasks or slow workers, one line each (``where``: masked).

        Worker processes log them once at start (``Backend.server_warnings``).
        """
        return []

    def change_source(
        self, db: Database, tables: Tables, url: SqlURL, scrub: Callable[[str], str]
    ) -> ChangeSource | None:
        """What pushes changes (see ``changes``); None: receivers poll."""
        return None

    def folds_table_names(self, conn: Connection) -> bool:
        """Whether the catalog shows table names folded to lower case (see ``namespaces``).

        Then a table's name in the catalog does not tell which case made it.
        """
        return False

    def serves(self, dialect_name: str) -> bool:
        """Whether an application's SQLAlchemy connection of this dialect is on this family."""
        return dialect_name in self.dialects

    # -- statements (see ``statements``, ``claims``, ``puts``, ``settling``) -----------

    @abstractmethod
    def insert(self, table: Table) -> Insert:
        """An INSERT of this database's dialect, which the conflict clauses below extend."""

    def on_conflict_ignore(self, statement: Any, table: Table) -> Insert:
        """``statement`` leaving a row whose primary key exists alone (``ON CONFLICT``)."""
        return statement.on_conflict_do_nothing(index_elements=list(table.primary_key))  # type: ignore[no-any-return]

    def on_conflict_update(
        self, statement: Any, table: Table, replace: Sequence[str], where: Condition | None
    ) -> Insert:
        """``statement`` setting the ``replace`` columns of a row whose primary key exists.

        With ``where``, only such a row that matches ``where(new)`` is changed
        (``new``: the columns of the row that was to be inserted).
        """
        new = statement.excluded
        return statement.on_conflict_do_update(  # type: ignore[no-any-return]
            index_elements=list(table.primary_key),
            set_={name: new[name] for name in replace},
            where=None if where is None else where(new),
        )

    def insert_ignoring_duplicates(self, table: Table) -> Insert:
        """INSERT that leaves a row with an existing primary key alone (puts are idempotent)."""
        return self.on_conflict_ignore(self.insert(table), table)

    def upsert(
        self,
        table: Table,
        values: Mapping[str, Any],
        replace: Sequence[str],
        where: Condition | None = None,
    ) -> Insert:
        """INSERT ``values``, or update an existing row instead (see ``on_conflict_update``)."""
        return self.on_conflict_update(self.insert(table).values(values), table, replace, where)

    def read_through(self, statement: Select[Any], table: Table, index: str) -> Select[Any]:
        """``statement``, made to read ``table`` through ``index`` where the planner needs that.

        Here: unchanged (the planner picks well from statistics).
        """
        return statement

    def wake_statement(self, channel: str, payload: Any) -> Select[Any] | None:
        """A statement that wakes the listeners of ``channel`` (None: nothing listens)."""
        return None

    @abstractmethod
    def claims(self, db: Database, tables: Tables, statements: Statements) -> Claims:
        """How this database claims due tasks and restores abandoned ones (see ``claims``)."""

    def array_statements(self, db: Database, tables: Tables) -> ArrayStatements | None:
        """Batch statements with rows bound as arrays (see ``arrays``); None: row by row."""
        return None

    # -- coordination ----------------------------------------------------------------

    @abstractmethod
    def lock(self, db: Database, tables: Tables, target: str) -> Lock:
        """A named lock of the namespace that holds no transaction (see ``locks``)."""

    @contextmanager
    def migration_lock(self, conn: Connection, url: SqlURL, namespace: str) -> Iterator[None]:
        """Hold off other migrations of the namespace while the block runs in ``conn``.

        Here: nothing more than the migration's own transaction.
        """
        yield

    # -- schema (see ``columns``, ``schema`` and the migration scripts) ----------------

    @property
    def ddl_dialect(self) -> str:
        """The SQLAlchemy dialect that writes this database's DDL offline (``--sql``)."""
        return self.dialects[0]

    def name_type(self, length: int) -> TypeEngine[Any]:
        """The column type of a name of up to ``length`` characters, compared byte for byte."""
        return String(length)

    def payload_type(self) -> TypeEngine[Any]:
        """The column type of opaque bytes up to 10 MiB."""
        return LargeBinary()

    def text_type(self) -> TypeEngine[Any]:
        """The column type of a short UTF-8 text (a JSON document)."""
        return Text()

    def event_id_type(self) -> TypeEngine[Any]:
        """The column type of the increasing event number (an autoincrement primary key)."""
        return BigInteger()

    def autoincrement_options(self) -> dict[str, Any]:
        """``Table`` keywords so that an autoincrement key never reuses a number."""
        return {}

    def partial_index_options(self, where: Any) -> dict[str, Any]:
        """``Index`` keywords that keep only rows matching ``where`` ({}: a full index)."""
        return {}

    def create_indexes(self, op: Any, table: str, indexes: Sequence[Index]) -> None:
        """Create ``indexes`` on ``table`` in a migration (``op`` is Alembic's)."""
        for name, columns, condition in indexes:
            where = None if condition is None else text(condition)
            op.create_index(name, table, columns, **self.partial_index_options(where))
