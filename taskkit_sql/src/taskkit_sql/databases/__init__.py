"""The databases taskkit-sql serves: the registration table, and the family of a URL or dialect.

A *family* is one kind of SQL database as taskkit-sql uses it (MariaDB and
MySQL are one family). Everything that differs between families is a hook
of :class:`~taskkit_sql.databases.base.Family`, overridden by one subclass
per family, each in its own module of this package (``postgresql``,
``mysql``, ``sqlite``). Nothing outside those modules and the table below
asks which database it talks to.

Import-light on purpose (no SQLAlchemy here): the plugin reads the
capabilities, descriptions and URL schemes when it registers them, before
any database is opened. A family's class is imported on first use.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskkit_core.backend import Capabilities

if TYPE_CHECKING:
    from .base import Family


@dataclass(frozen=True)
class Registration:
    """One family as the plugin announces it.

    name: the family's name, in error messages (``postgresql``).
    home: ``module:Class`` of its Family subclass, imported on first use.
    schemes: each URL scheme it serves -> the SQLAlchemy driver that scheme uses.
    dialects: the SQLAlchemy dialect names of its engines (the first names
        its DDL when ``taskkit migrate --sql`` prints it).
    """

    name: str
    home: str
    capabilities: Capabilities
    description: str
    schemes: Mapping[str, str]
    dialects: tuple[str, ...]


REGISTRATIONS: tuple[Registration, ...] = (
    Registration(
        name="sqlite",
        home="taskkit_sql.databases.sqlite:SqliteFamily",
        # multi_process: several processes on one host (one database file).
        # push_wakeups: a thread watches the WAL file (see walwatch).
        capabilities=Capabilities(
            multi_process=True,
            push_wakeups=True,
            transactional_enqueue=True,
            server_clock=False,
            priorities=True,
            unique_tasks=True,
        ),
        description="SQLite file through SQLAlchemy (one host; WAL)",
        schemes={"sqlite": "sqlite+pysqlite", "sqlite+pysqlite": "sqlite+pysqlite"},
        dialects=("sqlite",),
    ),
    Registration(
        name="postgresql",
        home="taskkit_sql.databases.postgresql:PostgresqlFamily",
        capabilities=Capabilities(
            multi_process=True,
            push_wakeups=True,
            transactional_enqueue=True,
            server_clock=True,
            priorities=True,
            unique_tasks=True,
        ),
        description="PostgreSQL through SQLAlchemy and psycopg 3 (SKIP LOCKED, LISTEN/NOTIFY)",
        schemes={
            "postgresql": "postgresql+psycopg",
            "postgres": "postgresql+psycopg",
            "postgresql+psycopg": "postgresql+psycopg",
        },
        dialects=("postgresql",),
    ),
    Registration(
        name="mysql",
        home="taskkit_sql.databases.mysql:MysqlFamily",
        # push_wakeups: a thread looks for due tasks, adaptively (see duewatch).
        capabilities=Capabilities(
            multi_process=True,
            push_wakeups=True,
            transactional_enqueue=True,
            server_clock=True,
            priorities=True,
            unique_tasks=True,
        ),
        description="MySQL 8 / MariaDB 10.6+ through SQLAlchemy and PyMySQL (SKIP LOCKED)",
        schemes={
            "mysql": "mysql+pymysql",
            "mysql+pymysql": "mysql+pymysql",
            "mysql+mysqldb": "mysql+mysqldb",
            "mariadb": "mariadb+pymysql",
            "mariadb+pymysql": "mariadb+pymysql",
            "mariadb+mysqldb": "mariadb+mysqldb",
        },
        dialects=("mysql", "mariadb"),
    ),
)
"""Every family, in the order ``taskkit backends`` lists their schemes."""

SCHEMES: dict[str, Registration] = {
    scheme: registration for registration in REGISTRATIONS for scheme in registration.schemes
}
"""URL scheme -> the registration of the family serving it."""

_BY_NAME = {registration.name: registration for registration in REGISTRATIONS}
_BY_DIALECT = {dialect: r.name for r in REGISTRATIONS for dialect in r.dialects}


def family_of(scheme: str) -> Family:
    """The family serving a URL scheme (KeyError for a scheme not served here)."""
    return _load(SCHEMES[scheme.lower()].name)


def family_of_dialect(dialect_name: str) -> Family:
    """The family of a SQLAlchemy dialect name (KeyError for a dialect not served here)."""
    return _load(_BY_DIALECT[dialect_name])


def every_family() -> list[Family]:
    """Every registered family (imports each class)."""
    return [_load(registration.name) for registration in REGISTRATIONS]


def options_of_every_family(options: Callable[[Family], Mapping[str, Any]]) -> dict[str, Any]:
    """The schema keywords of every family together (``postgresql_where=...``, ...).

    A table or index is declared once for every database; each family's
    keywords carry its dialect's prefix, so they never clash.
    """
    return options_of(every_family(), options)


def options_of(
    families: Iterable[Family], options: Callable[[Family], Mapping[str, Any]]
) -> dict[str, Any]:
    """The schema keywords of ``families`` together (see :func:`options_of_every_family`)."""
    return {key: value for family in families for key, value in options(family).items()}


@functools.cache
def _load(name: str) -> Family:
    registration = _BY_NAME[name]
    module, _, attribute = registration.home.partition(":")
    family_class: type[Family] = getattr(importlib.import_module(module), attribute)
    return family_class(registration)
