"""Coordination between workers: named locks and wake-ups when a task is put."""

from __future__ import annotations

import threading
import time
from typing import Any

from ...backend import Backend
from ..requirements import requires
from ..support import make_task, wait_until


class CoordinationContract:
    """get_lock across objects, threads and connections; watch_tasks."""

    # -- locks -----------------------------------------------------------------

    def test_a_lock_is_held_by_one_object_at_a_time(self, backend: Backend) -> None:
        first, second = backend.get_lock("job"), backend.get_lock("job")
        assert first.acquire()
        assert not second.acquire()
        assert backend.get_lock("other job").acquire()
        first.release()
        assert second.acquire()
        second.release()

    def test_the_holder_taking_its_lock_again_keeps_it(self, backend: Backend) -> None:
        # The elected queue-depth sampler (Prometheus metrics) keeps its lock so:
        # acquire() by the holder answers True and renews a lease-based lock.
        holder, other = backend.get_lock("job"), backend.get_lock("job")
        assert holder.acquire()
        assert holder.acquire()
        assert not other.acquire()
        holder.release()
        assert other.acquire()
        other.release()

    def test_a_lock_excludes_other_threads(self, backend: Backend) -> None:
        results: list[bool] = []
        holder = backend.get_lock("job")
        assert holder.acquire()

        def try_lock() -> None:
            lock = backend.get_lock("job")
            results.append(lock.acquire())

        threads = [threading.Thread(target=try_lock) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        holder.release()
        assert results == [False] * 4

    def test_a_lock_excludes_another_connection(self, backend: Backend, taskkit_open: Any) -> None:
        other = taskkit_open().backend
        lock = backend.get_lock("job")
        assert lock.acquire()
        assert not other.get_lock("job").acquire()
        lock.release()
        theirs = other.get_lock("job")
        assert theirs.acquire()
        theirs.release()

    # -- wake-ups --------------------------------------------------------------

    @requires("push_wakeups")
    def test_watchers_hear_of_put_tasks(self, backend: Backend) -> None:
        heard: list[str] = []
        subscription = backend.watch_tasks(heard.append)
        try:
            time.sleep(0.2)  # let a listener connection settle
            backend.put_tasks(make_task(group="wake me"))
            wait_until(lambda: "wake me" in heard, timeout=5)
        finally:
            subscription.close()
