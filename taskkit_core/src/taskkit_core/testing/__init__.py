"""The conformance kit: the whole backend contract as pytest tests against a URL.

Opt in with ``-p taskkit_core.testing`` (it never loads itself):

    pytest -p taskkit_core.testing --taskkit-url sqlite:///kit.db

runs every contract test against that URL. Or write two short files (see
plugins.md): a conftest.py with ``pytest_plugins = ["taskkit_core.testing"]``
and a ``taskkit_url`` fixture, and a test module that subclasses the
contract classes, where one test can be overridden or switched off.

Each test gets a namespace of its own, created through the backend's
migrator and dropped afterwards. Tests that need a capability the backend
lacks skip with a sentence naming it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..backend import Backend, Capabilities, Connection
from ..events import EventBridge
from ..kit import Kit
from ..opening import connect, drop, migrate
from ..worker.runtime import WorkerRuntime
from .backend_contract import BackendContract
from .events_contract import EventBridgeContract
from .kit_contract import KitContract
from .process_contract import ProcessContract
from .support import FAST_SETTINGS, RecordingHandler, make_task, wait_until

__all__ = [
    "FAST_SETTINGS",
    "BackendContract",
    "EventBridgeContract",
    "KitContract",
    "ProcessContract",
    "RecordingHandler",
    "make_task",
    "require",
    "wait_until",
]

SUITE = Path(__file__).parent / "suite"

CAPABILITY_SENTENCES = {
    "multi_process": "worker processes sharing the backend (capability multi_process)",
    "push_wakeups": "wake-ups pushed when a task is put (capability push_wakeups)",
    "transactional_enqueue": "enqueue inside an application transaction "
    "(capability transactional_enqueue)",
    "server_clock": "leases timed by the server's clock (capability server_clock)",
}


def require(capabilities: Capabilities, name: str) -> None:
    """Skip the running test unless the backend has capability ``name``."""
    if not getattr(capabilities, name):
        pytest.skip(f"the backend lacks {CAPABILITY_SENTENCES[name]}")


# -- pytest plugin hooks ----------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("taskkit", "taskkit conformance kit")
    group.addoption(
        "--taskkit-url",
        default=None,
        help="backend URL to run the conformance kit against (or set TASKKIT_TEST_URL)",
    )


def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """With --taskkit-url and no test paths, collect the kit's own suite."""
    namespace = early_config.known_args_namespace
    url = getattr(namespace, "taskkit_url", None) or os.environ.get("TASKKIT_TEST_URL")
    if url and not namespace.file_or_dir:
        args.append(str(SUITE))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "taskkit_slow: a conformance test that takes seconds")


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def taskkit_url(request: pytest.FixtureRequest) -> str:
    """The URL under test; override this fixture to point the kit at your backend."""
    url = request.config.getoption("taskkit_url", None) or os.environ.get("TASKKIT_TEST_URL")
    if not url:
        pytest.skip("no backend URL: pass --taskkit-url URL or override the taskkit_url fixture")
    return str(url)


@pytest.fixture
def taskkit_options() -> dict[str, Any]:
    """Extra backend options for every connection the kit opens (override to add some)."""
    return {}


@pytest.fixture
def taskkit_namespace() -> str:
    """A fresh namespace for each test."""
    return f"tk_{secrets.token_hex(5)}"


OpenConnection = Callable[..., Connection]


@pytest.fixture
def taskkit_open(
    taskkit_url: str, taskkit_namespace: str, taskkit_options: dict[str, Any]
) -> Iterator[OpenConnection]:
    """Opens connections to the test's namespace (or another); cleans all up afterwards."""
    opened: list[Connection] = []
    namespaces: set[str] = set()

    def open_connection(namespace: str = taskkit_namespace) -> Connection:
        options = {**taskkit_options, "namespace": namespace}
        if namespace not in namespaces:
            migrate(taskkit_url, **options)
            namespaces.add(namespace)
        connection = connect(taskkit_url, **options)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        try:
            connection.backend.destroy_all()
        finally:
            connection.close()
    for namespace in namespaces:
        drop(taskkit_url, **{**taskkit_options, "namespace": namespace})


@pytest.fixture
def connection(taskkit_open: OpenConnection) -> Connection:
    return taskkit_open()


@pytest.fixture
def backend(connection: Connection) -> Backend:
    return connection.backend


@pytest.fixture
def bridge(connection: Connection) -> EventBridge:
    return connection.bridge


@pytest.fixture
def capabilities(backend: Backend) -> Capabilities:
    return backend.capabilities


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def kit(
    connection: Connection,
    handler: RecordingHandler,
    taskkit_namespace: str,
    taskkit_options: dict[str, Any],
) -> Kit:
    """A Kit over the test's namespace, with short worker timings."""
    kit = Kit(
        connection.backend,
        connection.bridge,
        handler,
        settings=FAST_SETTINGS,
        backend_options={**taskkit_options, "namespace": taskkit_namespace},
    )
    handler.kit = kit
    return kit


StartThreads = Callable[..., WorkerRuntime]


@pytest.fixture
def start_threads(kit: Kit) -> Iterator[StartThreads]:
    """Starts in-process workers on the test's Kit; stops them after the test."""
    runtimes: list[WorkerRuntime] = []

    def start(threads: dict[str, int] | None = None, **kwargs: Any) -> WorkerRuntime:
        kwargs.setdefault("polling_interval", 0.2)
        runtime = kit.start_threads(threads or {"g": 2}, **kwargs)
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        runtime.stop(timeout=5)
