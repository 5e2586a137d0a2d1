"""Fixtures of the CLI tests: marker files, and backends shared between processes.

The worker, enqueue, status and control tests need a backend that several
processes share. They run on a SQLite file, and on PostgreSQL, MariaDB and
Redis when TASKKIT_TEST_POSTGRES_URL, TASKKIT_TEST_MYSQL_URL and
TASKKIT_TEST_REDIS_URL are set; a scheme whose package is not installed
skips (or fails, with TASKKIT_REQUIRE_ALL_BACKENDS=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.availability import unavailable
from taskkit_core.errors import TaskkitError, UnknownBackendError
from taskkit_core.opening import connect, drop, lookup_backend, migrate

from .support import SERVER_ENV, Markers, cli_env, new_namespace, taskkit


@dataclass
class Shared:
    """A migrated backend namespace and the environment that points the CLI at it."""

    name: str
    url: str
    namespace: str
    markers: Markers

    def env(self, **extra: str) -> dict[str, str]:
        return cli_env(
            TASKKIT_URL=self.url,
            TASKKIT_NAMESPACE=self.namespace,
            TASKKIT_TEST_MARKERS=str(self.markers.directory),
            **extra,
        )


@pytest.fixture
def markers(tmp_path: Path) -> Markers:
    directory = tmp_path / "markers"
    directory.mkdir()
    return Markers(directory)


def _url_of(name: str, tmp_path: Path) -> str:
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    url = os.environ.get(SERVER_ENV[name])
    if not url:
        unavailable(f"{SERVER_ENV[name]} is not set; set it to run the {name} CLI tests")
    return str(url)


def _installed(url: str) -> None:
    try:
        lookup_backend(url)
    except UnknownBackendError as exc:
        unavailable(str(exc))


def _open_shared(
    name: str, tmp_path: Path, markers: Markers, *, cli_migrate: bool
) -> Iterator[Shared]:
    url = _url_of(name, tmp_path)
    _installed(url)
    shared = Shared(name, url, new_namespace(), markers)
    if cli_migrate:
        migrated = taskkit("migrate", env=shared.env())
        assert migrated.returncode == 0, migrated.stderr
    else:
        migrate(url, namespace=shared.namespace)
    try:
        yield shared
    finally:
        _clean(shared)


def _clean(shared: Shared) -> None:
    try:
        connection = connect(shared.url, namespace=shared.namespace)
        connection.backend.destroy_all()
        connection.close()
        drop(shared.url, namespace=shared.namespace)
    except TaskkitError:
        pass  # the test itself reports what went wrong with the backend


@pytest.fixture(params=["sqlite", "postgresql", "mysql", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Path, markers: Markers) -> Iterator[Shared]:
    """Each backend that several processes can share, in turn, migrated by `taskkit migrate`."""
    yield from _open_shared(request.param, tmp_path, markers, cli_migrate=True)


@pytest.fixture
def sqlite(tmp_path: Path, markers: Markers) -> Iterator[Shared]:
    """A SQLite file: the shared backend of the tests that need only one."""
    yield from _open_shared("sqlite", tmp_path, markers, cli_migrate=False)
