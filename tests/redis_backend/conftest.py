"""Fixtures of the Redis-specific tests.

The shared server comes from TASKKIT_TEST_REDIS_URL; without it these tests
skip (or fail under TASKKIT_REQUIRE_ALL_BACKENDS=1). On the shared server a
test only ever touches keys of its own fresh namespaces. Tests that crash,
restart or reconfigure a server start a private redis-server instead
(``private_redis``, from ``harness.servers``): on a free port, in its own
temporary directory, stopped by its PID. ``redis_cluster`` (one per test
session and xdist worker) and ``sentinel_group`` (one per test) are private
deployments of several such processes (``harness.redis_topologies``).

This directory has no __init__.py on purpose: with one, pytest would
import it as a package named ``redis`` and hide redis-py.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from harness.availability import unavailable
from harness.redis_topologies import ClusterNodes, SentinelGroup
from harness.servers import RedisServer, missing_tool
from taskkit_core.backend import Connection
from taskkit_core.opening import connect

OpenConnection = Callable[..., Connection]
StartServer = Callable[..., RedisServer]


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis server's URL."""
    url = os.environ.get("TASKKIT_TEST_REDIS_URL")
    if not url:
        unavailable(
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
    _need_private_redis()
    servers: list[RedisServer] = []

    def start(*settings: str, password: str | None = None, tls: bool = False) -> RedisServer:
        directory = tmp_path / f"redis-{len(servers)}"
        directory.mkdir()
        server = RedisServer(directory, list(settings), password=password, tls=tls)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.destroy()


def _need_private_redis() -> None:
    reason = missing_tool("redis")
    if reason is not None:
        unavailable(f"{reason}; it is needed for private instances")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterNodes]:
    """A private three-node Redis Cluster (no replicas), password-protected."""
    _need_private_redis()
    with ClusterNodes(tmp_path_factory.mktemp("cluster"), password=CLUSTER_PASSWORD) as cluster:
        yield cluster.start()


CLUSTER_PASSWORD = "Pw/CLU#STER@7f:%"
"""The cluster nodes' password: a canary that no output may show."""


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[Callable[..., SentinelGroup]]:
    """Starts a private primary, replica and three Sentinels; kills them after the test."""
    _need_private_redis()
    groups: list[SentinelGroup] = []

    def start(password: str | None = None) -> SentinelGroup:
        group = SentinelGroup(tmp_path / f"sentinel-{len(groups)}", password)
        groups.append(group)
        return group.start()

    yield start
    for group in groups:
        group.destroy()
