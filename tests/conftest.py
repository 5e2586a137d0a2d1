"""The project's test set-up: the conformance kit against every first-party backend.

Server URLs come from TASKKIT_TEST_POSTGRES_URL, TASKKIT_TEST_MYSQL_URL and
TASKKIT_TEST_REDIS_URL. Where one is unset and Docker works, testcontainers
(if installed) starts the server; otherwise those tests skip and say how to
enable them. With TASKKIT_REQUIRE_ALL_BACKENDS=1 (as in CI) such a skip is a
failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.availability import unavailable
from taskkit_core.errors import UnknownBackendError
from taskkit_core.opening import lookup_backend

pytest_plugins = ["taskkit_core.testing"]

SERVER_ENV = {
    "postgresql": ("TASKKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    "mysql": ("TASKKIT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    "redis": ("TASKKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
}

BACKENDS = ["memory", "sqlite", "postgresql", "mysql", "redis"]


_CONTAINERS: dict[str, object] = {}


def _container_url(name: str) -> str | None:  # pragma: no cover - needs a Docker engine
    """A server started by testcontainers, where Docker and the package are present.

    Containers live until the test process exits (testcontainers' reaper
    removes them).
    """
    try:
        import docker
        from testcontainers.mysql import MySqlContainer
        from testcontainers.postgres import PostgresContainer
        from testcontainers.redis import RedisContainer

        docker.from_env().ping()
    except Exception:
        return None
    if name not in _CONTAINERS:
        container = {
            "postgresql": lambda: PostgresContainer("postgres:15", driver="psycopg"),
            "mysql": lambda: MySqlContainer("mariadb:10.11"),
            "redis": lambda: RedisContainer("redis:7"),
        }[name]()
        container.start()
        _CONTAINERS[name] = container
    container = _CONTAINERS[name]
    if name == "redis":
        host = container.get_container_host_ip()  # type: ignore[attr-defined]
        return f"redis://{host}:{container.get_exposed_port(6379)}/0"  # type: ignore[attr-defined]
    url = container.get_connection_url()  # type: ignore[attr-defined]
    return (
        str(url)
        .replace("postgresql+psycopg://", "postgresql://")
        .replace("mysql+pymysql://", "mysql://")
    )


def server_url(name: str) -> str:
    variable, example = SERVER_ENV[name]
    url = os.environ.get(variable) or _container_url(name)
    if not url:
        unavailable(
            f"{variable} is not set and Docker is not available; "
            f"set it (e.g. {variable}={example}) to run the {name} tests"
        )
    return str(url)


def installed(url: str) -> str:
    try:
        lookup_backend(url)
    except UnknownBackendError as exc:
        unavailable(str(exc))
    return url


@pytest.fixture(scope="session")
def sqlite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sqlite")


URLS: dict[str, Callable[[Path], str]] = {
    "memory": lambda _: "memory://",
    "sqlite": lambda directory: f"sqlite:///{directory}/taskkit.db",
    "postgresql": lambda _: server_url("postgresql"),
    "mysql": lambda _: server_url("mysql"),
    "redis": lambda _: server_url("redis"),
}


@pytest.fixture(params=BACKENDS)
def taskkit_url(request: pytest.FixtureRequest, sqlite_dir: Path) -> str:
    """Each first-party backend in turn (overrides the kit's --taskkit-url fixture)."""
    return installed(URLS[request.param](sqlite_dir))
