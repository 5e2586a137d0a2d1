"""Services: callables a worker process runs on their own threads.

A service does one round of work and returns the seconds to wait before
its next call. The discard service takes a backend Lock first, so one
process at a time does its work; the restorer and the purger need none (see
there).
The heartbeat and the release of forgotten claims are per process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Protocol, TypeVar

from .backend import Backend, Claim, Lock, Outcome, StageInfo
from .crashpoints import crash_point
from .holdings import ClaimKey, Holdings

logger = logging.getLogger("taskkit.services")

T = TypeVar("T")

BATCH = 100

STAGE_LIMIT = 10_000
"""Most stages one round of ReleaseForgottenClaims reads (longest-held first)."""


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
        previous, self.last_success = self.last_success, time.monotonic()
        if previous > float("-inf") and self.last_success - previous > self.ttl / 2:
            # Said out loud, as a lease that lapses gets this process's tasks
            # restored elsewhere while they still run here.
            logger.warning(
                "heartbeat late: the lease was refreshed %.1f s after the previous "
                "refresh (worker_ttl %.1f s); task threads holding the GIL or a slow "
                "backend can make it lapse",
                self.last_success - previous,
                self.ttl,
            )
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
    """Forgets workers whose lease expired.

    It takes no lock: ``purge_dead_workers`` is atomic and checks each lease
    again as it deletes, so purgers in several processes at once are
    harmless, and an idle process spends no round trips on a lock.
    """

    def __init__(self, backend: Backend, interval: float) -> None:
        self.backend = backend
        self.interval = interval

    def __call__(self) -> float:
        purged = self.backend.purge_dead_workers()
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


class ReleaseForgottenClaims:
    """Hands back tasks the backend says this process holds but it does not.

    Only a backend that lost an acknowledged write shows such a task (see
    ``holdings``). A stage of this worker that two rounds in a row find
    neither held nor touched since the previous round is settled as
    released: the task goes back to the queue and runs again (at least
    once). Such a stage existed at the first round, so the claim call that
    made it had started by then; the second round judges only once every
    call then in flight has returned (and would have made its claims held),
    else it starts over.
    """

    def __init__(
        self, backend: Backend, worker_id: str, holdings: Holdings, interval: float
    ) -> None:
        self.backend = backend
        self.worker_id = worker_id
        self.holdings = holdings
        self.interval = interval
        self._suspects: set[ClaimKey] = set()
        self._calls_in_flight: frozenset[int] = frozenset()

    def __call__(self) -> float:
        staged = {
            (info.task_id, info.attempt): info
            for info in self.backend.get_stage_info(STAGE_LIMIT)
            if info.worker_id == self.worker_id
        }
        look = self.holdings.look()
        suspects = set(staged) - look.seen
        if self._calls_in_flight & look.calls_in_flight:
            forgotten: set[ClaimKey] = set()  # a call that may have staged them is still out
        else:
            forgotten = suspects & self._suspects
        self._suspects = suspects - forgotten
        self._calls_in_flight = look.calls_in_flight
        if forgotten:
            self._release([staged[key] for key in sorted(forgotten)])
        return self.interval

    def _release(self, infos: list[StageInfo]) -> None:
        tasks = self.backend.lookup_tasks(*{info.task_id for info in infos})
        outcomes = [
            Outcome.released(Claim(task, self.worker_id, info.attempt, info.began))
            for info in infos
            if (task := tasks.get(info.task_id)) is not None
        ]
        for outcome, accepted in zip(outcomes, self.backend.settle(*outcomes), strict=True):
            if accepted:
                logger.warning(
                    "task %s (attempt %d) was staged to this worker, which had no claim on "
                    "it (the backend lost a write); it goes back to the queue",
                    outcome.claim.task.id,
                    outcome.claim.attempt,
                )
