"""A worker start warns once when the server's settings can lose or evict tasks.

Opening the URL (as `taskkit status`, `enqueue` or an application putting
tasks do) stays quiet: the warning is for the people who run workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from taskkit_core.testing.support import RecordingHandler

from taskkit_core import Kit

OpenConnection = Callable[..., Any]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("taskkit") and r.levelno == logging.WARNING
    ]


def start_and_stop_a_worker(connection: Any) -> None:
    kit = Kit(connection.backend, connection.bridge, RecordingHandler())
    kit.start_threads({"g": 1}).stop()


def test_a_server_without_aof_and_with_eviction_gets_one_warning_line(
    private_redis: Callable[..., Any],
    open_connection: OpenConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = private_redis(
        "--appendonly", "no", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"
    )
    caplog.set_level(logging.WARNING)
    connection = open_connection(url=server.url)
    assert warnings_of(caplog) == [], "opening the URL stays quiet"
    start_and_stop_a_worker(connection)
    start_and_stop_a_worker(connection)  # a second worker start in the process stays quiet
    (line,) = warnings_of(caplog)
    assert f"127.0.0.1:{server.port}" in line
    assert "appendonly no" in line
    assert "maxmemory-policy allkeys-lru" in line


def test_a_durable_server_gets_no_warning(
    private_redis: Callable[..., Any],
    open_connection: OpenConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = private_redis("--appendonly", "yes", "--appendfsync", "always")
    caplog.set_level(logging.WARNING)
    start_and_stop_a_worker(open_connection(url=server.url))
    assert warnings_of(caplog) == []
