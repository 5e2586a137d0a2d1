"""Creating, upgrading and dropping a namespace's tables with Alembic.

``taskkit migrate --url URL [--namespace NS] [--sql]`` calls
:func:`migrate`. The revision scripts ship in ``migration_scripts/`` and
receive the namespace, and Alembic keeps its own version table per
namespace (``<namespace>_alembic_version``), so taskkit's history never
mixes with an application's own Alembic history in the same database.

A namespace that differs from an existing one only in case is refused
before anything is changed, and ``migrate`` records the namespace's exact
name in its own storage (see ``namespaces``); ``drop`` refuses the same way,
so it never drops the tables of a case variant that the database folds
into the same names.

Online, the upgrade runs under the family's migration lock (an advisory
transaction lock on PostgreSQL, GET_LOCK on MySQL, the write lock on
SQLite; ``Family.migration_lock``), so processes that migrate at the same
time do it one after the other. With
``sql_only`` nothing is touched: the DDL is returned for teams that apply
migrations themselves.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Select, String, Table, column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import DropTable
from taskkit_core.errors import StorageNotReady
from taskkit_core.names import namespace_key

from .namespaces import check_namespace_free, record_namespace
from .options import DEFAULT_NAMESPACE
from .schema import Tables, build_tables
from .urls import SqlURL

SCRIPTS = Path(__file__).parent / "migration_scripts"

REVISIONS = ("0001", "0002")
"""Every schema revision, oldest first; the last is the one this package needs."""

HEAD = REVISIONS[-1]


def migrate_command(url: SqlURL, namespace: str) -> str:
    """The command that creates or upgrades the schema (the password masked)."""
    command = f"taskkit migrate --url '{url.masked()}'"
    if namespace != DEFAULT_NAMESPACE:
        command += f" --namespace {namespace}"
    return command


def current_revision(conn: Connection, tables: Tables) -> str | None:
    """The namespace's schema revision, or None when it has no tables."""
    if not inspect(conn).has_table(tables.version_table):
        return None
    return conn.execute(_version_query(tables)).scalar()


def _ready_revision(conn: Connection, tables: Tables) -> str | None:
    """``current_revision`` in one round trip where the tables exist (every worker start).

    Only when reading the version fails is the table looked for: then it
    is missing (None), or the read fails again with the real error.
    Needs an autocommit connection (a failed statement spoils a transaction).
    """
    try:
        return conn.execute(_version_query(tables)).scalar()
    except DBAPIError:
        conn.rollback()
    return current_revision(conn, tables)


def _version_query(tables: Tables) -> Select[str]:
    versions = table(tables.version_table, column("version_num", String()))
    return select(versions.c.version_num)


def check_ready(conn: Connection, tables: Tables, url: SqlURL, namespace: str) -> None:
    """Raise StorageNotReady unless the schema is at HEAD (one query when it is)."""
    revision = _ready_revision(conn, tables)
    if revision == HEAD:
        return
    where = f"namespace {namespace!r} in {url.masked()!r}"
    if revision is None:
        raise StorageNotReady(
            f"taskkit's tables for {where} do not exist; create them with: "
            f"{migrate_command(url, namespace)}"
        )
    if revision in REVISIONS:
        raise StorageNotReady(
            f"taskkit's tables for {where} are at schema revision {revision}, "
            f"this taskkit-sql needs {HEAD}; upgrade them with: {migrate_command(url, namespace)}"
        )
    raise StorageNotReady(
        f"taskkit's tables for {where} are at schema revision {revision!r}, which this "
        f"taskkit-sql does not know (its newest is {HEAD}); upgrade taskkit-sql"
    )


def migrate(
    url: str, options: Mapping[str, Any], sql_only: bool, revision: str = HEAD
) -> str | None:
    """Bring the namespace's schema to HEAD; with ``sql_only``, return the DDL instead.

    ``revision`` names another target among REVISIONS, up or down (for tests
    of upgrades, and for going back before downgrading taskkit-sql).
    """
    if revision not in REVISIONS:
        raise ValueError(f"unknown schema revision {revision!r}; known: {', '.join(REVISIONS)}")
    from .urls import resolve

    sql_url, opts = resolve(url, options)
    tables = build_tables(opts.namespace)
    if sql_only:
        return _offline_ddl(sql_url, tables)
    from .engine import Database, make_engine

    db = Database(make_engine(sql_url, opts, pooled=False), sql_url.family)
    try:
        with db.write() as conn, _locked(conn, sql_url, opts.namespace):
            check_namespace_free(conn, tables, sql_url.family)
            before = current_revision(conn, tables)
            if before != revision:
                _run_alembic(tables, _direction(before, revision), connection=conn)
            record_namespace(conn, tables, sql_url.family)
    finally:
        db.close()
    where = f"namespace {opts.namespace!r} in {sql_url.masked()!r}"
    if before == revision:
        return f"{where} is up to date (schema revision {revision})"
    return f"{where} migrated from {before or 'nothing'} to schema revision {revision}"


def _direction(before: str | None, revision: str) -> tuple[str, str]:
    """Alembic's command and target that lead from ``before`` to ``revision``."""
    if before in REVISIONS and REVISIONS.index(before) > REVISIONS.index(revision):
        return "downgrade", revision
    return "upgrade", revision


def drop(url: str, options: Mapping[str, Any]) -> None:
    """Drop every table of the namespace, its Alembic version table included."""
    from .engine import Database, make_engine
    from .urls import resolve

    sql_url, opts = resolve(url, options)
    tables = build_tables(opts.namespace)
    db = Database(make_engine(sql_url, opts, pooled=False), sql_url.family)
    try:
        with db.write() as conn, _locked(conn, sql_url, opts.namespace):
            check_namespace_free(conn, tables, sql_url.family)  # never a case variant's tables
            for dropped in [*tables.all(), Table(tables.version_table, MetaData())]:
                conn.execute(DropTable(dropped, if_exists=True))
    finally:
        db.close()


def _locked(conn: Connection, url: SqlURL, namespace: str) -> AbstractContextManager[None]:
    """The family's migration lock, one for all namespaces that differ only in case."""
    return url.family.migration_lock(conn, url, namespace_key(namespace))


def _run_alembic(tables: Tables, step: tuple[str, str], **attributes: Any) -> str:
    from alembic import command
    from alembic.config import Config

    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes.update(namespace=tables.namespace, **attributes)
    how, target = step
    run = command.upgrade if how == "upgrade" else command.downgrade
    run(config, target, sql="dialect_name" in attributes)
    return buffer.getvalue()


def _offline_ddl(url: SqlURL, tables: Tables) -> str:
    return _run_alembic(tables, ("upgrade", HEAD), dialect_name=url.family.ddl_dialect)
