"""taskkit-sql: taskkit's backend on SQLAlchemy Core for SQLite, PostgreSQL and MySQL/MariaDB.

Installing the distribution registers the URL schemes (``sqlite``,
``postgresql``, ``mysql``, ``mariadb`` and their driver variants) with
taskkit; applications use ``taskkit_core.Kit.from_url`` and never need to
import this package. The names below are for tools and tests; they load
on first use, so that taskkit's plugin discovery (which imports
``taskkit_sql.plugin``) does not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import SqlBackend
    from .events import SqlEventBridge
    from .migrations import HEAD, drop, migrate
    from .opener import open_sql
    from .options import SqlOptions
    from .schema import Tables, build_tables

_HOMES = {
    "HEAD": "migrations",
    "SqlBackend": "backend",
    "SqlEventBridge": "events",
    "SqlOptions": "options",
    "Tables": "schema",
    "build_tables": "schema",
    "drop": "migrations",
    "migrate": "migrations",
    "open_sql": "opener",
}

__all__ = [
    "HEAD",
    "SqlBackend",
    "SqlEventBridge",
    "SqlOptions",
    "Tables",
    "build_tables",
    "drop",
    "migrate",
    "open_sql",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'taskkit_sql' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)
