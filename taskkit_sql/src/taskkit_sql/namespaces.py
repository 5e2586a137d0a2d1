"""Namespaces that differ only in case: looked up in the catalog, recorded in their own rows.

taskkit compares namespaces without regard to case (``taskkit_core.names``)
and refuses a name that differs from an existing namespace only in case.
On SQL this is more than a rule: SQLite compares table names without case
even when they are quoted, and MySQL and MariaDB do with
``lower_case_table_names`` 1 or 2, so there ``casea_tasks`` *is*
``CaseA_tasks`` and the two namespaces would share their rows.

Two things find an existing namespace of the same key:

- the catalog, searched without case for the Alembic version table of
  every namespace (``<name>_alembic_version``): on a catalog that keeps
  case (PostgreSQL, SQLite, MySQL with ``lower_case_table_names=0``) the
  table's name shows the namespace's exact name;
- the record: the row of the namespace's own locks table whose name is
  RECORD (no lock has an empty name) holds the exact name in ``owner``.
  It is written by ``migrate`` and, for a namespace created before the
  record existed, when the namespace is next opened. Where the catalog
  folds names to lower case (``Family.folds_table_names``), only the record
  tells ``CaseA`` from ``casea``.

A namespace created before this check whose catalog name was folded, and
that nobody opened since, is taken by the first name that opens it.
"""

from __future__ import annotations

import logging

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from taskkit_core.names import check_same_namespace

from .databases.base import Family
from .engine import Database
from .schema import Tables, build_tables

logger = logging.getLogger("taskkit.sql")

RECORD = ""
"""The name of the row in ``<namespace>_locks`` that records the namespace's exact name."""

RECORD_EXPIRES = 1e18
"""The record's ``expires``: never, so the SQLite lease locks never take it for a free lock."""

VERSION_SUFFIX = "_alembic_version"


def check_namespace_free(conn: Connection, tables: Tables, family: Family) -> bool:
    """Refuse ``tables.namespace`` if a namespace differing only in case exists (one line).

    Returns whether the namespace itself exists with its name recorded.
    """
    names = inspect(conn).get_table_names()
    folded = family.folds_table_names(conn)
    recorded = False
    for prefix in _same_key(names, tables):
        record = _record(conn, prefix, names, family)
        exact = record if record is not None else (None if folded else prefix)
        check_same_namespace(tables.namespace, exact)
        recorded = recorded or record is not None
    return recorded


def record_namespace(conn: Connection, tables: Tables, family: Family) -> None:
    """Write the record of ``tables.namespace`` unless one exists (inside ``conn``'s work)."""
    values = {"name": RECORD, "owner": tables.namespace, "expires": RECORD_EXPIRES}
    conn.execute(family.insert_ignoring_duplicates(tables.locks).values(values))


def record_on_open(db: Database, tables: Tables, family: Family) -> None:
    """Record a namespace made before records existed, then check again (another won?)."""
    try:
        with db.write() as conn:
            record_namespace(conn, tables, family)
    except DBAPIError as exc:  # a user without INSERT on the locks table: check the catalog only
        logger.info("could not record namespace %r: %s", tables.namespace, exc.orig)
        return
    with db.read() as conn:
        check_namespace_free(conn, tables, family)


def _same_key(names: list[str], tables: Tables) -> list[str]:
    """The namespaces in the catalog whose version table matches ours without case."""
    wanted = tables.version_table.lower()
    return [name[: -len(VERSION_SUFFIX)] for name in names if name.lower() == wanted]


def _record(conn: Connection, prefix: str, names: list[str], family: Family) -> str | None:
    """The exact name recorded in the namespace found as ``prefix``, if it has a record."""
    locks = build_tables(prefix, family).locks  # prefix matches a checked namespace but for case
    if locks.name not in names:
        return None
    owner = conn.execute(select(locks.c.owner).where(locks.c.name == RECORD)).scalar()
    return None if owner is None else str(owner)
