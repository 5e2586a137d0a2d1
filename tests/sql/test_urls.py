"""URLs and options: default drivers, the SQLite path forms, and one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from taskkit_core.errors import BackendUnavailable, ConfigurationError
from taskkit_core.opening import connect, drop, migrate
from taskkit_sql.options import OPTION_NAMES
from taskkit_sql.urls import parse_sql_url

DRIVERS = {
    "sqlite:///tasks.db": "sqlite+pysqlite",
    "postgresql://u@h/db": "postgresql+psycopg",
    "postgres://u@h/db": "postgresql+psycopg",
    "postgresql+psycopg://u@h/db": "postgresql+psycopg",
    "mysql://u@h/db": "mysql+pymysql",
    "mysql+pymysql://u@h/db": "mysql+pymysql",
    "mysql+mysqldb://u@h/db": "mysql+mysqldb",
    "mariadb://u@h/db": "mariadb+pymysql",
    "mariadb+mysqldb://u@h/db": "mariadb+mysqldb",
}


@pytest.mark.parametrize(("url", "driver"), DRIVERS.items())
def test_each_scheme_gets_its_default_driver(url: str, driver: str) -> None:
    assert parse_sql_url(url, OPTION_NAMES).sqlalchemy_url.drivername == driver


def test_three_slashes_are_relative_and_four_absolute() -> None:
    assert parse_sql_url("sqlite:///tasks.db", OPTION_NAMES).sqlalchemy_url.database == "tasks.db"
    absolute = parse_sql_url("sqlite:////var/lib/tasks.db", OPTION_NAMES)
    assert absolute.sqlalchemy_url.database == "/var/lib/tasks.db"


@pytest.mark.parametrize(
    ("url", "advice"),
    [
        ("sqlite://", "memory://"),
        ("sqlite:///:memory:", "memory://"),
        ("sqlite:///file:x?mode=memory&uri=true", "memory://"),
        ("sqlite://relative.db", "four slashes"),
        ("postgresql://user@host", "names no database"),
        ("mysql://user@host/", "names no database"),
        ("postgresql://user:Pw-CANARY-zq7kx@host:notaport/db", "port"),
        ("mysql+pymysql://user:Pw-CANARY-zq7kx@[::1/db", "malformed"),
        ("postgresql://user:Pw-CAN@ARY-zq7kx@host/db", "percent-encode"),
    ],
)
def test_unusable_urls_are_one_line_configuration_errors(url: str, advice: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        connect(url)
    message = str(info.value)
    assert advice in message
    assert "\n" not in message
    for secret in ("CANARY", "CAN@", "ARY-zq7kx"):
        assert secret not in message


def test_unknown_options_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown option.*colour.*known: ") as info:
        connect(f"sqlite:///{tmp_path}/x.db", colour="blue")
    assert "namespace" in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {"namespace": "bad name;"},
        {"namespace": "x" * 42},
        {"pool_size": 0},
        {"pool_size": 2.5},
        {"connect_timeout": -1},
        {"pool_timeout": "soon"},
        {"sqlite_synchronous": "off"},
    ],
)
def test_bad_option_values_are_refused_before_connecting(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError):
        migrate(f"sqlite:///{tmp_path}/never.db", **options)
    assert not (tmp_path / "never.db").exists()


def test_options_can_come_from_the_query_string(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/q.db?namespace=from_query&pool_size=3"
    migrate(url)
    try:
        connection = connect(url)
        assert connection.backend.namespace == "from_query"
        connection.close()
        assert connect(url, namespace="from_query").backend.namespace == "from_query"
    finally:
        drop(url)


def test_a_namespace_in_the_query_string_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="namespace"):
        migrate(f"sqlite:///{tmp_path}/q.db?namespace=drop%20table")


def test_a_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail, whether mysqlclient is installed
    # or another test put PyMySQL in its place (the Django tests do).
    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    with pytest.raises(BackendUnavailable, match=r'pip install "taskkit\[mysql\]"'):
        connect("mysql+mysqldb://root:Pw-CANARY-zq7kx@127.0.0.1:1/test")
