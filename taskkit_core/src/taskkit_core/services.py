"""Services: callables a worker process runs on their own threads.

A service does one round of work and returns the seconds to wait before
its next call. The purge and discard services take a backend Lock first, so
one process at a time does their work; the restorer needs none (see there).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Protocol, TypeVar

from .backend import Backend, Lock
from .crashpoints import crash_point

logger = logging.getLogger("taskkit.services")

T = TypeVar("T")

BATCH = 100


class Service(Protocol):
    def __call__(self) -> float:
        """Do one round of work; return the seconds until the next call."""
        ...


def _under_lock(lock: Lock, work: Callable[[], T], default: T) -> T:
    if not lock.acquire():
        return default
    try:
        return work()
    finally:
        lock.release()


class RefreshWorkerLifetime:
    """The heartbeat: keeps this process's worker lease alive.

    ``fresh()`` says whether the last successful heartbeat is recent enough
    to trust the lease; workers stop claiming when it is not, so a process
    cut off from the backend stops taking work before its tasks are
    restored elsewhere.
    """

    def __init__(
        self, backend: Backend, worker_ids: Collection[str], ttl: float, interval: float
    ) -> None:
        self.backend = backend
        self.worker_ids = set(worker_ids)
        self.ttl = ttl
        self.interval = interval
        self.last_success = float("-inf")

    def __call__(self) -> float:
        crash_point("heartbeat")
        started = time.monotonic()
        self.backend.set_worker_ttl(self.worker_ids, self.ttl)
        self.last_success = time.monotonic()
        # Keep the cadence from start to start: a heartbeat slowed by busy
        # threads (the GIL, a slow round trip) must not also delay the next.
        return max(0.0, self.interval - (self.last_success - started))

    def fresh(self) -> bool:
        return time.monotonic() - self.last_success < self.ttl - self.interval


class RestoreAbandonedTasks:
    """Puts the tasks of dead workers back in the queue.

    It takes no lock: ``restore_abandoned`` is atomic and fenced per task, so
    restorers in several processes cannot restore one attempt twice, and a
    restorer that died holding a lock cannot delay recovery.
    """

    def __init__(self, backend: Backend, interval: float) -> None:
        self.backend = backend
        self.interval = interval

    def __call__(self) -> float:
        restored = self.backend.restore_abandoned(BATCH)
        for info in restored:
            logger.info(
                "restored task %s of dead worker %s (attempt %d)",
                info.task_id,
                info.worker_id,
                info.attempt,
            )
        return 0 if len(restored) == BATCH else self.interval


class PurgeDeadWorkers:
    """Forgets workers whose lease expired."""

    def __init__(self, backend: Backend, interval: float) -> None:
        self.backend = backend
        self.interval = interval
        self.lock = backend.get_lock("purge_workers")

    def __call__(self) -> float:
        purged: list[str] = _under_lock(self.lock, self.backend.purge_dead_workers, [])
        if purged:
            logger.info("purged %d dead worker(s): %s", len(purged), ", ".join(purged))
        return self.interval


class DiscardDisposableTasks:
    """Deletes finished tasks whose ttl has run out."""

    def __init__(self, backend: Backend, interval: float) -> None:
        self.backend = backend
        self.interval = interval
        self.lock = backend.get_lock("discard_disposable_tasks")

    def __call__(self) -> float:
        discarded = _under_lock(self.lock, self._discard, 0)
        return 0 if discarded == BATCH else self.interval

    def _discard(self) -> int:
        task_ids = self.backend.get_disposable_task_ids(BATCH)
        if task_ids:
            self.backend.discard_tasks(*task_ids)
            logger.debug("discarded %d finished task(s)", len(task_ids))
        return len(task_ids)
