"""The worker threads of one group in one process, and the claimer that feeds them.

One claimer thread per group takes as many due tasks as there are idle
threads in a single ``assign_tasks`` round trip and hands them over a
local queue; each worker thread runs one task at a time and settles it.
When nothing is due the claimer sleeps until the group's polling interval
passes or the backend pushes a wake-up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from .backend import Backend, Claim, Outcome
from .crashpoints import crash_point
from .handler import TaskHandler
from .threads import OutageLog
from .worker import run_task, running_claim

logger = logging.getLogger("taskkit.worker")
settle_log = logging.getLogger("taskkit.settle")
"""One DEBUG record per settle, with the Outcome and whether it was accepted (for audits)."""

PAUSED_WAIT = 1.0
STALE_LEASE_WAIT = 0.2


class GroupPool:
    """N worker threads and one claimer for ``group``."""

    def __init__(
        self,
        *,
        backend: Backend,
        handler: TaskHandler,
        worker_id: str,
        group: str,
        size: int,
        polling_interval: float,
        claim_batch: int | None,
        lease_fresh: Callable[[], bool],
        initial_delay: float = 0.0,
        max_attempts: int | None = None,
        scrub: Callable[[str], str] = str,
    ) -> None:
        self.backend = backend
        self.handler = handler
        self.worker_id = worker_id
        self.group = group
        self.size = size
        self.polling_interval = polling_interval
        self.claim_batch = min(claim_batch or size, size)
        self.lease_fresh = lease_fresh
        self.initial_delay = initial_delay
        self.max_attempts = max_attempts
        self.paused = False
        self._scrub = scrub
        self._claiming = threading.Event()
        self._claiming.set()
        self._abandoned = threading.Event()
        self._wake = threading.Event()
        self._slots = threading.Semaphore(size)
        self._queue: queue.SimpleQueue[Claim | None] = queue.SimpleQueue()
        self._running: dict[int, Claim] = {}
        self._running_lock = threading.Lock()
        self._claimer = threading.Thread(
            target=self._claim_loop, name=f"taskkit-claimer[{group}]", daemon=True
        )
        self._workers = [
            threading.Thread(
                target=self._work_loop, name=f"taskkit-worker[{group}]#{i}", daemon=True
            )
            for i in range(size)
        ]

    # -- control ----------------------------------------------------------------

    def start(self) -> None:
        self._claimer.start()
        for thread in self._workers:
            thread.start()

    def wake(self) -> None:
        """Claim now instead of at the end of the polling interval."""
        self._wake.set()

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self.wake()

    @property
    def claiming(self) -> bool:
        return self._claiming.is_set()

    def stop_claiming(self) -> None:
        """Take no more tasks; claimed tasks not yet started go back to the queue."""
        self._claiming.clear()
        self.wake()

    def drain(self, timeout: float) -> bool:
        """Stop claiming and wait up to ``timeout`` s for running tasks; True if all ended."""
        self.stop_claiming()
        self._claimer.join(timeout)
        for _ in self._workers:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._workers)

    def abandon(self) -> list[Claim]:
        """Give up on running tasks (the process is exiting); return their claims."""
        self._abandoned.set()
        with self._running_lock:
            return list(self._running.values())

    # -- claiming -----------------------------------------------------------------

    def _claim_loop(self) -> None:
        outage = OutageLog(f"claimer of group {self.group!r}", self._scrub)
        if self.initial_delay > 0:
            self._wake.wait(self.initial_delay)
        while self.claiming:
            if self.paused:
                self._wake.wait(PAUSED_WAIT)
                self._wake.clear()
                continue
            if not self.lease_fresh():
                time.sleep(STALE_LEASE_WAIT)
                continue
            wanted = self._take_idle_slots()
            if not wanted:
                continue
            self._wake.clear()
            try:
                claims = self.backend.assign_tasks(self.group, self.worker_id, wanted)
            except Exception as exc:
                self._give_back_slots(wanted)
                self._wake.wait(outage.failed(exc))
                continue
            outage.succeeded()
            if claims and self._paused_now():
                # Paused while this claim was in flight: hand the tasks back unstarted.
                for claim in claims:
                    self._settle(Outcome.released(claim))
                self._give_back_slots(wanted)
                continue
            self._give_back_slots(wanted - len(claims))
            for claim in claims:
                self._queue.put(claim)
            if len(claims) < wanted:
                self._wake.wait(self.polling_interval)

    def _paused_now(self) -> bool:
        """Read ``paused`` afresh: another thread may have set it during a claim."""
        return self.paused

    def _take_idle_slots(self) -> int:
        if not self._slots.acquire(timeout=PAUSED_WAIT):
            return 0
        if not self.claiming:
            self._slots.release()
            return 0
        taken = 1
        while taken < self.claim_batch and self._slots.acquire(blocking=False):
            taken += 1
        return taken

    def _give_back_slots(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    # -- working --------------------------------------------------------------------

    def _work_loop(self) -> None:
        while (claim := self._queue.get()) is not None:
            try:
                if self.claiming:
                    self._run(claim)
                else:
                    self._settle(Outcome.released(claim))
            finally:
                self._slots.release()

    def _run(self, claim: Claim) -> None:
        ident = threading.get_ident()
        with self._running_lock:
            self._running[ident] = claim
        try:
            self._settle(self._outcome_of(claim))
        finally:
            with self._running_lock:
                self._running.pop(ident, None)

    def _outcome_of(self, claim: Claim) -> Outcome:
        task = claim.task
        if self.max_attempts is not None and claim.attempt > self.max_attempts:
            logger.warning(
                "task %s (%s) failed: claimed %d times, more than max_attempts=%d",
                task.id,
                task.name,
                claim.attempt,
                self.max_attempts,
            )
            return Outcome.failed(
                claim,
                f"gave up after {claim.attempt - 1} attempts (max_attempts={self.max_attempts})",
            )
        crash_point("after_claim")
        logger.debug("[%s] handle task %s (%s)", self.worker_id, task.id, task.name)
        with running_claim(claim):
            outcome = run_task(self.handler, task).as_outcome(claim)
        crash_point("before_settle")
        return outcome

    def _settle(self, outcome: Outcome) -> None:
        """Write the outcome, retrying through backend outages; log a refused (stale) write."""
        outage = OutageLog(f"settling task {outcome.claim.task.id}", self._scrub)
        while not self._abandoned.is_set():
            try:
                (accepted,) = self.backend.settle(outcome)
            except Exception as exc:
                self._abandoned.wait(outage.failed(exc))
                continue
            outage.succeeded()
            settle_log.debug(
                "%s %s attempt %d: %s",
                outcome.kind.value,
                outcome.claim.task.id,
                outcome.claim.attempt,
                "accepted" if accepted else "refused",
                extra={"taskkit_outcome": outcome, "taskkit_accepted": accepted},
            )
            if not accepted:
                claim = outcome.claim
                logger.warning(
                    "lease lost: task %s (attempt %d) was taken over from worker %s; "
                    "its %s outcome was refused",
                    claim.task.id,
                    claim.attempt,
                    claim.worker_id,
                    outcome.kind.value,
                )
            return
