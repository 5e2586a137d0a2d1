"""Workers and their leases: refresh_leases, get_leases, drop_leases, purge_expired_leases."""

from __future__ import annotations

import threading
import time

import pytest

from ...backend import Backend
from ..support import wait_until


class LeaseContract:
    """A worker's lease: refreshed, listed with its expiry, purged when it ran out."""

    def test_leases_are_listed_with_their_expiry(self, backend: Backend) -> None:
        now = time.time()
        backend.refresh_leases({"a"}, 100)
        backend.refresh_leases({"b", "c"}, 50)
        leases = dict(backend.get_leases())
        assert set(leases) == {"a", "b", "c"}
        assert leases["a"] == pytest.approx(now + 100, abs=5)
        assert [w for w, _ in backend.get_leases()][-1] == "a"
        backend.drop_leases({"b"})
        assert {w for w, _ in backend.get_leases()} == {"a", "c"}

    def test_expired_leases_are_purged(self, backend: Backend) -> None:
        backend.refresh_leases({"live"}, 60)
        backend.refresh_leases({"dead"}, 0.3)
        assert wait_until(backend.purge_expired_leases, timeout=10) == ["dead"]
        assert [w for w, _ in backend.get_leases()] == ["live"]

    def test_concurrent_purges_drop_every_expired_lease_and_keep_the_live(
        self, backend: Backend
    ) -> None:
        backend.refresh_leases({"live"}, 60)
        dead = {f"dead-{i}" for i in range(20)}
        backend.refresh_leases(dead, 0.3)
        time.sleep(0.6)
        purged: list[str] = []
        errors: list[BaseException] = []

        def purge() -> None:
            try:
                purged.extend(backend.purge_expired_leases())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=purge) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert set(purged) == dead
        assert [w for w, _ in backend.get_leases()] == ["live"]
