"""Fixtures of the Redis-specific tests.

The shared server comes from TASKKIT_TEST_REDIS_URL; without it these tests
skip (or fail under TASKKIT_REQUIRE_ALL_BACKENDS=1). On the shared server a
test only ever touches keys of its own fresh namespaces. Tests that crash,
restart or reconfigure a server start a private redis-server instead
(``private_redis``): on a free port, in its own temporary directory,
stopped by its PID.

This directory has no __init__.py on purpose: with one, pytest would
import it as a package named ``redis`` and hide redis-py.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from taskkit_core.backend import Connection
from taskkit_core.registry import connect

START_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not installed; it is needed for private instances")
    return path


@dataclass
class RedisServer:
    """One redis-server process with fixed port, directory and settings, restartable."""

    directory: Path
    settings: list[str]
    port: int = field(default_factory=free_port)
    password: str | None = None
    tls: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{credentials}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        port = (
            ["--port", "0", "--tls-port", str(self.port)]
            if self.tls
            else ["--port", str(self.port)]
        )
        auth = ["--requirepass", self.password] if self.password else []
        return [
            redis_server_binary(),
            *port,
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--daemonize",
            "no",
            *auth,
            *self.settings,
        ]

    def start(self) -> RedisServer:
        """Start the server and wait until it answers."""
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - kept by the process
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        if self.tls:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        client = redis.Redis(port=self.port, password=self.password, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server (a crash) and wait for it to exit."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server if it still runs (cleanup; its data is the test's alone)."""
        self.kill()

    def _signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signum)  # only the process this object started
            self.process.wait(timeout=30)
        self.process = None

    def log_tail(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


OpenConnection = Callable[..., Connection]
StartServer = Callable[..., RedisServer]


def _unavailable(reason: str) -> None:
    if os.environ.get("TASKKIT_REQUIRE_ALL_BACKENDS") == "1":
        pytest.fail(f"{reason} (TASKKIT_REQUIRE_ALL_BACKENDS=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis server's URL."""
    url = os.environ.get("TASKKIT_TEST_REDIS_URL")
    if not url:
        _unavailable(
            "TASKKIT_TEST_REDIS_URL is not set; set it (e.g. "
            "TASKKIT_TEST_REDIS_URL=redis://127.0.0.1:6379/0) to run the Redis tests"
        )
    return str(url)


def new_namespace() -> str:
    return f"tkr_{secrets.token_hex(5)}"


@pytest.fixture
def namespace() -> str:
    """A fresh namespace for this test."""
    return new_namespace()


@pytest.fixture
def open_connection(redis_url: str, namespace: str) -> Iterator[OpenConnection]:
    """Opens connections to a namespace (the test's by default); empties and closes them after."""
    opened: list[Connection] = []

    def open_one(ns: str = namespace, url: str = redis_url, **options: Any) -> Connection:
        connection = connect(url, namespace=ns, **options)
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        try:
            connection.backend.destroy_all()
        except redis.RedisError:
            pass  # a private server that is gone already
        finally:
            connection.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client of the shared server, to look at keys directly."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[StartServer]:
    """Starts private redis-server instances on free ports; kills them after the test."""
    servers: list[RedisServer] = []

    def start(*settings: str, password: str | None = None, tls: bool = False) -> RedisServer:
        directory = tmp_path / f"redis-{len(servers)}"
        directory.mkdir()
        server = RedisServer(directory, list(settings), password=password, tls=tls)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
