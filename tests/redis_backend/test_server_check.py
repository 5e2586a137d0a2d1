"""Start-up warns once when the server's settings can lose or evict tasks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

OpenConnection = Callable[..., Any]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "taskkit.redis" and r.levelno == logging.WARNING
    ]


def test_a_server_without_aof_and_with_eviction_gets_one_warning_line(
    private_redis: Callable[..., Any],
    open_connection: OpenConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = private_redis(
        "--appendonly", "no", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"
    )
    caplog.set_level(logging.WARNING)
    open_connection(url=server.url)
    open_connection(url=server.url)  # a second open in the process stays quiet
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
    open_connection(url=server.url)
    assert warnings_of(caplog) == []
