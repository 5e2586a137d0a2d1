"""The supervisor's lease keeper vouches only for children that live and do not hang.

Children here are stand-ins with the real shared record (``LeaseShare``)
filled by a real Heartbeat, and a real process id (a ``sleep`` that the
test can stop or end); the leases live in memory://.
"""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from taskkit_core.opening import connect
from taskkit_core.worker.heartbeat import Heartbeat
from taskkit_core.worker.lease_keeper import STUCK_TTLS, LeaseKeeper, LeaseShare

from taskkit_core import Backend

TTL = 3.0


class Child:
    """A worker process as the keeper sees it: a pid, alive or not, and its lease record."""

    def __init__(self, backend: Backend, worker_id: str) -> None:
        self.sleeper = subprocess.Popen(["sleep", "60"])
        self.lease = LeaseShare(multiprocessing.get_context("spawn"))
        self.heartbeat = Heartbeat(backend, [worker_id], TTL, 1.0)
        self.lease.publish(self.heartbeat)

    @property
    def pid(self) -> int | None:
        return self.sleeper.pid

    def is_alive(self) -> bool:
        return self.sleeper.poll() is None


@pytest.fixture
def backend() -> Iterator[Backend]:
    connection = connect("memory://", namespace="keeper")
    yield connection.backend
    connection.backend.destroy_all()
    connection.close()


@pytest.fixture
def child(backend: Backend) -> Iterator[Child]:
    made = Child(backend, "host:1:abc")
    made.heartbeat()  # its own first refresh, published
    yield made
    made.sleeper.send_signal(signal.SIGCONT)
    made.sleeper.kill()
    made.sleeper.wait()


def expiry(backend: Backend) -> float:
    return dict(backend.get_leases()).get("host:1:abc", 0.0)


def renews(backend: Backend, child: Child) -> bool:
    """Whether one round of the keeper moved the child's lease expiry forward."""
    before = expiry(backend)
    time.sleep(0.05)
    LeaseKeeper(backend, TTL, 1.0, lambda: [child])()
    return expiry(backend) > before


def test_a_live_child_with_a_recent_own_refresh_is_renewed(backend: Backend, child: Child) -> None:
    assert renews(backend, child)


def test_a_stopped_child_is_not_renewed(backend: Backend, child: Child) -> None:
    child.sleeper.send_signal(signal.SIGSTOP)
    time.sleep(0.2)
    assert not renews(backend, child)


def test_a_dead_child_is_not_renewed(backend: Backend, child: Child) -> None:
    child.sleeper.kill()
    child.sleeper.wait()
    assert not renews(backend, child)


def test_a_child_whose_own_heartbeat_hangs_is_renewed_no_longer(
    backend: Backend, child: Child
) -> None:
    child.lease._refreshed.value = time.monotonic() - STUCK_TTLS * TTL - 0.1
    assert not renews(backend, child)
