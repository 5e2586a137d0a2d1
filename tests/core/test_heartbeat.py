"""Heartbeat: the lease is kept, and a late refresh is said out loud."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator

import pytest
from taskkit_core.opening import connect
from taskkit_core.worker.heartbeat import Heartbeat

from taskkit_core import Backend

WORKER = "worker-1"


@pytest.fixture
def backend() -> Iterator[Backend]:
    connection = connect("memory://", namespace=f"heartbeat_{secrets.token_hex(4)}")
    yield connection.backend
    connection.close()


def test_a_refresh_keeps_the_lease_and_says_when_to_come_back(backend: Backend) -> None:
    heartbeat = Heartbeat(backend, [WORKER], ttl=30, interval=10)
    assert not heartbeat.lease_is_fresh()
    wait = heartbeat()
    assert 9 < wait <= 10
    assert heartbeat.lease_is_fresh()
    [(worker, expires)] = backend.get_leases()
    assert worker == WORKER
    assert time.time() + 29 < expires <= time.time() + 30


def test_a_refresh_later_than_half_the_ttl_is_logged(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    heartbeat = Heartbeat(backend, [WORKER], ttl=0.4, interval=0.1)
    with caplog.at_level(logging.WARNING, logger="taskkit.services"):
        heartbeat()
        heartbeat()
        assert caplog.records == [], "the first refresh and a prompt one are quiet"
        time.sleep(0.25)
        heartbeat()
    [record] = caplog.records
    assert record.getMessage().startswith("heartbeat late: the lease was refreshed 0.")
    assert "worker_ttl 0.4 s" in record.getMessage()
