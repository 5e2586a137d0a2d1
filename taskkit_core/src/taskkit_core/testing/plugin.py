"""The kit's pytest plugin: its command-line option, fixtures and skip reporting.

``taskkit_core.testing`` loads this module (``pytest_plugins``), so
``-p taskkit_core.testing`` or ``pytest_plugins = ["taskkit_core.testing"]``
brings it in; it never loads itself.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..backend import Backend, Capabilities, Connection
from ..events import EventBridge
from ..kit import Kit
from ..opening import connect, drop, lookup_backend, migrate
from ..worker.runtime import WorkerRuntime
from .requirements import MARKERS, CapabilityMissing, skip_unless_fit
from .support import FAST_SETTINGS, RecordingHandler

SUITE = Path(__file__).parent / "suite"
"""The kit's own collectable test module, run when no test paths are given."""

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
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report a capability skip at the test itself, with the test's name.

    pytest would point at the line that raised the skip (a helper of the
    kit); a skip marker added at collection points at the test, and so does
    this.
    """
    report = yield
    if report.skipped and call.excinfo and call.excinfo.errisinstance(CapabilityMissing):
        path, line = item.reportinfo()[:2]
        test = item.nodeid.split("::", 1)[-1]
        report.longrepr = (str(path), (line or 0) + 1, f"{test} {call.excinfo.value}")
    return report


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _taskkit_requirements(request: pytest.FixtureRequest) -> None:
    """Skip a test marked with ``requires``/``lacking`` that does not fit the backend."""
    if request.node.get_closest_marker("taskkit_requires") or request.node.get_closest_marker(
        "taskkit_lacking"
    ):
        skip_unless_fit(request, request.getfixturevalue("capabilities"))


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
        if namespace not in namespaces and lookup_backend(taskkit_url)[1].migrate is not None:
            migrate(taskkit_url, **options)
            namespaces.add(namespace)  # its storage exists now, whatever the open does
        connection = connect(taskkit_url, **options)
        namespaces.add(namespace)  # dropped afterwards; never one that was refused
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
