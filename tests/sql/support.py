"""Helpers of the SQL tests: which backends, and plain engines to look at the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from taskkit_core.backend import Backend
from taskkit_sql.backend import SqlBackend
from taskkit_sql.options import OPTION_NAMES
from taskkit_sql.urls import parse_sql_url

SQL = ["sqlite", "postgresql", "mysql"]
"""The root conftest's ``taskkit_url`` params served by taskkit-sql."""

ON_EVERY_DATABASE = pytest.mark.parametrize("taskkit_url", SQL, indirect=True)
ON_SERVERS = pytest.mark.parametrize("taskkit_url", ["postgresql", "mysql"], indirect=True)
ON_MARIADB = pytest.mark.parametrize("taskkit_url", ["mysql"], indirect=True)
ON_POSTGRESQL = pytest.mark.parametrize("taskkit_url", ["postgresql"], indirect=True)
ON_SQLITE = pytest.mark.parametrize("taskkit_url", ["sqlite"], indirect=True)


def as_sql(backend: Backend) -> SqlBackend:
    """``backend``, which a SQL URL opened, typed as taskkit-sql's own."""
    assert isinstance(backend, SqlBackend), backend
    return backend


@contextmanager
def plain_engine(url: str) -> Iterator[Engine]:
    """An engine of our own on the database a taskkit URL points at (no pool)."""
    engine = create_engine(parse_sql_url(url, OPTION_NAMES).sqlalchemy_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def tables_of(url: str, namespace: str) -> set[str]:
    """Names of the tables of ``namespace`` that exist in the database."""
    with plain_engine(url) as engine:
        names = inspect(engine).get_table_names()
    return {name for name in names if name.startswith(f"{namespace}_")}
