"""Workers and leases: set_worker_ttl, get_workers, purge_workers, purge_dead_workers."""

from __future__ import annotations

import threading
import time

import pytest

from ...backend import Backend
from ..support import wait_until


class LeaseContract:
    """A worker's lease: refreshed, listed with its expiry, purged when it ran out."""

    def test_workers_are_listed_with_their_expiry(self, backend: Backend) -> None:
        now = time.time()
        backend.set_worker_ttl({"a"}, 100)
        backend.set_worker_ttl({"b", "c"}, 50)
        workers = dict(backend.get_workers())
        assert set(workers) == {"a", "b", "c"}
        assert workers["a"] == pytest.approx(now + 100, abs=5)
        assert [w for w, _ in backend.get_workers()][-1] == "a"
        backend.purge_workers({"b"})
        assert {w for w, _ in backend.get_workers()} == {"a", "c"}

    def test_dead_workers_are_purged(self, backend: Backend) -> None:
        backend.set_worker_ttl({"live"}, 60)
        backend.set_worker_ttl({"dead"}, 0.3)
        assert wait_until(backend.purge_dead_workers, timeout=10) == ["dead"]
        assert [w for w, _ in backend.get_workers()] == ["live"]

    def test_concurrent_purges_forget_every_dead_worker_and_keep_the_live(
        self, backend: Backend
    ) -> None:
        backend.set_worker_ttl({"live"}, 60)
        dead = {f"dead-{i}" for i in range(20)}
        backend.set_worker_ttl(dead, 0.3)
        time.sleep(0.6)
        purged: list[str] = []
        errors: list[BaseException] = []

        def purge() -> None:
            try:
                purged.extend(backend.purge_dead_workers())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=purge) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert set(purged) == dead
        assert [w for w, _ in backend.get_workers()] == ["live"]
