"""The chaos tier: private servers that the tests stop, pause, restart and cut off.

Every test here is marked ``chaos`` (the default run deselects it) and runs
against a private server instance of its own (``harness.servers``), never
the shared servers, with the fast tier's timings (TTL 3 s, H 1 s, R 1 s,
P 0.2 s). Run one backend at a time::

    uv run pytest -m chaos tests/reliability/chaos -k postgresql

Each test appends what it measured (the checker's counts and timings) as
one JSON line to ``$TASKKIT_CHAOS_RESULTS`` (default
``chaos-results.jsonl`` in the pytest temporary directory); RELIABILITY.md
at the project root records one full run.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from harness.app import ReliabilityHandler
from harness.proxy import FaultProxy
from harness.servers import (
    PrivateMariaDB,
    PrivatePostgres,
    PrivateServer,
    RedisServer,
    missing_tool,
)
from taskkit_core.opening import connect, migrate

from taskkit_core import Kit

from ..conftest import SETTINGS, Workload

PASSWORD = "Pw/CAN#ARY@7f:%"
"""Every private server's password: a canary no output may contain (S7)."""

SERVER_BACKENDS = ["postgresql", "mysql", "redis"]


def leaks(text: str, password: str = PASSWORD) -> list[str]:
    """Every spelling or 5-character piece of ``password`` found in ``text``."""
    pieces = {password[i : i + 5] for i in range(len(password) - 4)}
    pieces |= {password, quote(password, safe="")}
    return sorted(piece for piece in pieces if piece in text)


def start_server(backend: str, tmp_path: Path, *settings: str) -> PrivateServer:
    """A private server of ``backend``, started; skips where the tools are missing."""
    reason = missing_tool(backend)
    if reason is not None:
        pytest.skip(f"cannot start a private {backend} server: {reason}")
    if backend == "postgresql":
        return PrivatePostgres(PASSWORD, settings)
    if backend == "mysql":
        return PrivateMariaDB(PASSWORD, settings)
    directory = tmp_path / f"redis-{secrets.token_hex(3)}"
    directory.mkdir()
    durable = ("--appendonly", "yes", "--appendfsync", "always")
    return RedisServer(directory, settings or durable, password=PASSWORD).start()


def with_port(url: str, port: int) -> str:
    """``url`` with its port replaced (to go through a FaultProxy)."""
    head, _, tail = url.rpartition(":")
    return f"{head}:{port}/{tail.partition('/')[2]}"


@dataclass
class Chaos:
    """One chaos test's server, workload and measurements."""

    backend: str
    url: str
    namespace: str
    workload: Workload
    server: PrivateServer | None
    results: Path
    test: str
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def kit(self) -> Kit:
        return self.workload.kit

    def record(self, **values: Any) -> None:
        """Keep measurements; written as one JSON line when the test ends."""
        self.measured.update(values)

    def flush(self, outcome: str) -> None:
        line = {
            "test": self.test,
            "backend": self.backend,
            "outcome": outcome,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **self.measured,
        }
        with self.results.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, default=str) + "\n")
        print(f"\nCHAOS RESULT {json.dumps(line, default=str)}")


def new_namespace() -> str:
    return f"tkc_{secrets.token_hex(4)}"


def reads_after_fault(run: Chaos, attempts: int = 5) -> list[str]:
    """Errors of the test process's first reads after a fault (what a user calling
    the backend sees), tried up to ``attempts`` times 0.2 s apart."""
    errors: list[str] = []
    for _ in range(attempts):
        try:
            run.kit.backend.get_stage_info(1)
            return errors
        except Exception as exc:
            errors.append(type(exc).__name__)
            time.sleep(0.2)
    return errors


def results_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("TASKKIT_CHAOS_RESULTS")
    if given:
        return Path(given)
    return tmp_path_factory.getbasetemp() / "chaos-results.jsonl"


def open_workload(url: str, namespace: str, history_dir: Path, workload_url: str) -> Workload:
    """Migrate ``namespace`` with ``url`` and run the workload over ``workload_url``."""
    migrate(url, namespace=namespace)
    connection = connect(workload_url, namespace=namespace)
    kit = Kit(
        connection.backend,
        connection.bridge,
        ReliabilityHandler(history_dir),
        settings=SETTINGS,
        backend_options={"namespace": namespace},
    )
    return Workload(kit, history_dir)


MakeChaos = Callable[..., Chaos]


@pytest.fixture
def chaos(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[MakeChaos]:
    """Builds a Chaos for a backend: private server (or SQLite file), namespace, workload.

    ``make(backend, *server_settings, url=None, server=None, namespace=None)``:
    ``url`` maps the server to the URL the workload uses (a proxy's, a
    restricted user's); migrations always use the server's own URL.
    Everything is stopped and deleted afterwards, even on failure.
    """
    caplog.set_level(logging.INFO)  # worker processes inherit the level
    made: list[Chaos] = []
    servers: list[PrivateServer] = []

    def make(
        backend: str,
        *settings: str,
        url: Callable[[PrivateServer], str] | None = None,
        server: PrivateServer | None = None,
        namespace: str | None = None,
    ) -> Chaos:
        if backend == "sqlite":
            admin_url = f"sqlite:///{tmp_path}/chaos.db"
            server = None
        else:
            if server is None:
                server = start_server(backend, tmp_path, *settings)
                servers.append(server)
            admin_url = server.url
        namespace = namespace or new_namespace()
        workload_url = url(server) if url is not None and server is not None else admin_url
        workload = open_workload(admin_url, namespace, tmp_path / "history", workload_url)
        run = Chaos(
            backend=backend,
            url=admin_url,
            namespace=namespace,
            workload=workload,
            server=server,
            results=results_path(tmp_path_factory),
            test=request.node.name,
        )
        made.append(run)
        return run

    try:
        yield make
    finally:
        for server in servers:
            server.resume()  # a paused server would hang every stop below
        for run in made:
            run.workload.stop()
            run.kit.close()
            rep = getattr(request.node, "rep_call", None)
            run.flush("passed" if rep is not None and rep.passed else "failed")
        for server in servers:
            server.destroy()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so fixtures can tell pass from fail."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


class Proxies:
    """FaultProxies in front of private servers; ``through(server)`` is the proxied URL."""

    def __init__(self) -> None:
        self.started: list[FaultProxy] = []

    def through(self, server: PrivateServer) -> str:
        proxy = FaultProxy("127.0.0.1", server.port).start()
        self.started.append(proxy)
        return with_port(server.url, proxy.port)

    @property
    def proxy(self) -> FaultProxy:
        return self.started[-1]


@pytest.fixture
def proxies() -> Iterator[Proxies]:
    """Fault proxies for this test, stopped afterwards."""
    box = Proxies()
    yield box
    for proxy in box.started:
        proxy.stop()
