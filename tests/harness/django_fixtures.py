"""Fixtures of tests/django (its conftest re-exports them): a real Django project on
fresh databases of every kind.

One session makes a SQLite file and, on the PostgreSQL and MariaDB test
servers, a database of its own (dropped at the end), writes them into
TASKKIT_DJANGO_DATABASES for the project's settings (aliases ``default``:
SQLite, ``postgresql``, ``mysql``), sets Django up in this process and runs
``manage.py migrate`` on each: Django's tables, and taskkit's through the
post_migrate hook (on the other aliases through ``taskkit migrate``).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from harness.availability import unavailable
from harness.django_project import PROJECT

SERVERS = {"postgresql": "django.db.backends.postgresql", "mysql": "django.db.backends.mysql"}
VARIABLES = {"postgresql": "TASKKIT_TEST_POSTGRES_URL", "mysql": "TASKKIT_TEST_MYSQL_URL"}


def _server_admin(kind: str) -> Any:
    url = make_url(os.environ[VARIABLES[kind]]).set(
        drivername="postgresql+psycopg" if kind == "postgresql" else "mysql+pymysql"
    )
    return url, create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _create_database(kind: str, name: str) -> dict[str, Any] | None:
    if not os.environ.get(VARIABLES[kind]):
        return None
    url, engine = _server_admin(kind)
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return {
        "ENGINE": SERVERS[kind],
        "NAME": name,
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        "HOST": url.host or "",
        "PORT": str(url.port or ""),
    }


def _drop_database(kind: str, name: str) -> None:
    _url, engine = _server_admin(kind)
    force = " WITH (FORCE)" if kind == "postgresql" else ""
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
    engine.dispose()


@pytest.fixture(scope="session")
def django_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The project's DATABASES, migrated, with Django set up in this process."""
    name = f"tkdj_{secrets.token_hex(4)}"
    sqlite_file = tmp_path_factory.mktemp("django") / "project.db"
    databases: dict[str, Any] = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_file)}
    }
    for kind in SERVERS:
        entry = _create_database(kind, name)
        if entry is not None:
            databases[kind] = entry
    os.environ["TASKKIT_DJANGO_DATABASES"] = json.dumps(databases)
    os.environ["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    sys.path.insert(0, str(PROJECT))
    import django
    from django.core.management import call_command
    from taskkit_core.opening import migrate

    django.setup()
    for alias in databases:
        call_command("migrate", database=alias, verbosity=0)
        if alias != "default":
            migrate(f"django://{alias}")
    try:
        yield databases
    finally:
        from django.db import connections

        connections.close_all()
        for kind in SERVERS:
            if kind in databases:
                _drop_database(kind, name)


@pytest.fixture(params=["default", "postgresql", "mysql"])
def alias(request: pytest.FixtureRequest, django_project: dict[str, Any]) -> str:
    """Each database alias in turn: SQLite (default), PostgreSQL, MariaDB."""
    if request.param not in django_project:
        variable = (
            "TASKKIT_TEST_POSTGRES_URL"
            if request.param == "postgresql"
            else "TASKKIT_TEST_MYSQL_URL"
        )
        unavailable(f"{variable} is not set: the Django tests on {request.param} need it")
    return str(request.param)
