"""Fixtures of the application-layer tests: the test shop app on a backend, and its workers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from taskkit_core.testing import OpenConnection

from app.shop import app as shop_app
from taskkit_core import App, WorkerRuntime


def _point(app: App, url: str, namespace: str) -> App:
    app.close()
    app.configure(url, namespace=namespace)
    return app


@pytest.fixture
def shop(taskkit_open: OpenConnection, taskkit_url: str, taskkit_namespace: str) -> Iterator[App]:
    """The shop app over each backend in turn, in the test's namespace."""
    taskkit_open()  # creates the namespace's storage, dropped after the test
    yield _point(shop_app, taskkit_url, taskkit_namespace)
    shop_app.close()


@pytest.fixture
def memory_shop() -> Iterator[App]:
    """The shop app over memory://, in a namespace of its own."""
    yield _point(shop_app, "memory://", f"t_{secrets.token_hex(5)}")
    shop_app.close()


StartWorkers = Callable[..., WorkerRuntime]


@pytest.fixture
def workers() -> Iterator[StartWorkers]:
    """Starts worker threads of an app (default: its own threads); stops them after the test."""
    runtimes: list[WorkerRuntime] = []

    def start(app: App, threads: dict[str, int] | None = None, **options: Any) -> WorkerRuntime:
        options.setdefault("polling_interval", 0.1)
        runtime = app.start_threads(threads, **options)
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        runtime.stop(timeout=5)
