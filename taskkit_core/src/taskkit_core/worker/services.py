"""Services: callables a worker process runs on their own threads.

A service does one round of work and returns the seconds to wait before
its next call; a :class:`ServiceThread` calls it until the runtime stops.
The discard service takes a backend Lock first, so one process at a time
does its work; the restorer and the purger need none (see there). The
heartbeat (``heartbeat.py``) and the release of forgotten claims
(``forgotten_claims.py``) are services of one process each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from ..backend import Backend, Lock
from ..observers.hub import hub
from ..outages import OutageLog

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
        if restored and hub.active:
            hub.restored(restored)
        for info in restored:
            logger.info(
                "restored task %s of dead worker %s (attempt %d)",
                info.task_id,
                info.worker_id,
                info.attempt,
            )
        return 0 if len(restored) == BATCH else self.interval


class PurgeExpiredLeases:
    """Deletes the leases that expired (those of dead workers).

    It takes no lock: ``purge_expired_leases`` is atomic and checks each lease
    again as it deletes, so purgers in several processes at once are
    harmless, and an idle process spends no round trips on a lock.
    """

    def __init__(self, backend: Backend, interval: float) -> None:
        self.backend = backend
        self.interval = interval

    def __call__(self) -> float:
        purged = self.backend.purge_expired_leases()
        if purged:
            logger.info(
                "purged the expired leases of %d dead worker(s): %s", len(purged), ", ".join(purged)
            )
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


class ServiceThread(threading.Thread):
    """Calls a service until stopped, sleeping what it returns between calls."""

    def __init__(
        self,
        service: Callable[[], float],
        name: str,
        stop: threading.Event,
        scrub: Callable[[str], str] = str,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.service = service
        self.stop_event = stop
        self.outage = OutageLog(name, scrub)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                wait = self.service()
            except Exception as exc:
                wait = self.outage.failed(exc)
            else:
                self.outage.succeeded()
            if wait > 0:
                self.stop_event.wait(wait)
