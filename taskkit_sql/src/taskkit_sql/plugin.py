"""Registers taskkit-sql's URL schemes through the ``taskkit`` plugin hook.

Import-light: the registration table (``databases``) and the opener load
no SQLAlchemy; SQLAlchemy, Alembic and the drivers are imported when a
backend is opened, migrated or dropped, so listing backends stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskkit_core.hookspecs import hookimpl
from taskkit_core.registry import BackendRegistry

from .databases import SCHEMES
from .opener import open_sql

DRIVERS = {  # SQLAlchemy driver -> the module it imports -> what installs that module
    "sqlite+pysqlite": {"_sqlite3": ""},  # part of Python (when built with SQLite)
    "postgresql+psycopg": {"psycopg": "taskkit[postgres]"},
    "mysql+pymysql": {"pymysql": "taskkit[mysql]"},
    "mariadb+pymysql": {"pymysql": "taskkit[mysql]"},
    "mysql+mysqldb": {"MySQLdb": "mysqlclient"},
    "mariadb+mysqldb": {"MySQLdb": "mysqlclient"},
}


def _migrate(url: str, options: Mapping[str, Any], sql_only: bool) -> str | None:
    from .migrations import migrate

    return migrate(url, options, sql_only)


def _drop(url: str, options: Mapping[str, Any]) -> None:
    from .migrations import drop

    drop(url, options)


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    for scheme, registration in SCHEMES.items():
        registry.add(
            scheme,
            open_sql,
            capabilities=registration.capabilities,
            migrate=_migrate,
            drop=_drop,
            description=registration.description,
            drivers=DRIVERS[registration.schemes[scheme]],
        )
