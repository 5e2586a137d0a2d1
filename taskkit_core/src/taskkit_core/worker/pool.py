"""The worker threads of one group in one process, and the claimer that feeds them.

One claimer thread per group keeps the group's threads supplied: it claims
as many due tasks as there are free places in one ``claim_tasks`` round
trip, where the places are the threads plus ``prefetch`` tasks claimed
ahead, so a busy group claims in real batches instead of one task per
freed thread. Worker threads take claims from the local line, run them,
and hand their outcomes to the group's Settler. When nothing is due the
claimer sleeps until the polling interval passes or the backend pushes a
wake-up.

Each claim runs as a RunningAttempt; the group's Watchdog stops attempts
whose timeout passed or whose cancellation was requested, and replaces a
thread stuck in a stopped handler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection

from ..backend import Backend, Claim, Outcome
from ..handler import TaskHandler
from ..outages import OutageLog
from .attempt import RunningAttempt, running
from .crashpoints import crash_point
from .holdings import Holdings
from .settler import Settler
from .task_run import run_task
from .watchdog import Watchdog

logger = logging.getLogger("taskkit.worker")

PAUSED_WAIT = 1.0
STALE_LEASE_WAIT = 0.2


class GroupPool:
    """N worker threads, one claimer and one settler for ``group``."""

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
        lease_is_fresh: Callable[[], bool],
        prefetch: int | None = None,
        initial_delay: float = 0.0,
        max_attempts: int | None = None,
        holdings: Holdings | None = None,
        scrub: Callable[[str], str] = str,
    ) -> None:
        self.backend = backend
        self.handler = handler
        self.worker_id = worker_id
        self.group = group
        self.size = size
        self.polling_interval = polling_interval
        self.capacity = size + (size if prefetch is None else prefetch)
        self.claim_batch = min(claim_batch or self.capacity, self.capacity)
        self.lease_is_fresh = lease_is_fresh
        self.initial_delay = initial_delay
        self.max_attempts = max_attempts
        self.paused = False
        self._scrub = scrub
        self._claiming = True
        self._workers_stop = False
        # One lock, two conditions: workers wait for claims in the line, the
        # claimer waits for room. A finished task wakes only the claimer, not
        # every idle worker (with one condition each task woke them all).
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._has_room = threading.Condition(self._lock)
        self._line: deque[Claim] = deque()
        self._busy = 0
        self._wake = threading.Event()
        self._running: dict[int, RunningAttempt] = {}
        self._retired: set[int] = set()  # threads replaced while stuck in a handler
        self.holdings = holdings or Holdings()
        self._settler = Settler(backend, group, self.holdings, scrub)
        self._watchdog = Watchdog(self, handler)
        self._claimer = threading.Thread(
            target=self._claim_loop, name=f"taskkit-claimer[{group}]", daemon=True
        )
        self._workers: list[threading.Thread] = []
        for _ in range(size):
            self._workers.append(self._new_worker())

    def _new_worker(self) -> threading.Thread:
        number = len(self._workers)
        return threading.Thread(
            target=self._work_loop, name=f"taskkit-worker[{self.group}]#{number}", daemon=True
        )

    # -- control ----------------------------------------------------------------

    def start(self) -> None:
        self._settler.start()
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
        return self._claiming

    def stop_claiming(self) -> None:
        """Take no more tasks; claimed tasks not yet started go back to the queue."""
        with self._lock:
            self._claiming = False
            self._has_room.notify_all()
        self.wake()

    def drain(self, timeout: float) -> bool:
        """Stop claiming, let running tasks finish and their outcomes be written.

        Waits up to ``timeout`` seconds; True when everything ended in time.
        """
        deadline = time.monotonic() + timeout
        self.stop_claiming()
        self._claimer.join(timeout)
        with self._lock:
            self._workers_stop = True
            self._has_work.notify_all()
        for thread in self._active_workers():
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._active_workers()):
            return False
        self._watchdog.stop()
        return self._settler.close(max(0.0, deadline - time.monotonic()))

    def _active_workers(self) -> list[threading.Thread]:
        """The worker threads, less those replaced (their attempts are settled already)."""
        with self._lock:
            return [t for t in self._workers if t.ident not in self._retired]

    def abandon(self) -> list[Claim]:
        """Give up on running tasks (the process is exiting); return their claims."""
        self._settler.abandon()
        self._watchdog.stop()
        with self._lock:
            return [a.claim for a in self._running.values() if not a.decided]

    def cancel(self, task_ids: Collection[str]) -> None:
        """Cancel requests arrived: end those of our claims, running or waiting in the line."""
        wanted = set(task_ids)
        with self._lock:
            waiting = [c for c in self._line if c.task.id in wanted]
            for claim in waiting:
                self._line.remove(claim)
            running = [a for a in self._running.values() if a.claim.task.id in wanted]
            self._has_room.notify(len(waiting))
        for claim in waiting:
            self._settler.put(Outcome.cancelled(claim, "cancelled before it started"))
        for attempt in running:
            logger.info("task %s: cancel requested while running", attempt.claim.task.id)
            self._watchdog.cancel(attempt)

    # -- claiming -----------------------------------------------------------------

    def _claim_loop(self) -> None:
        outage = OutageLog(f"claimer of group {self.group!r}", self._scrub)
        if self.initial_delay > 0:
            self._wake.wait(self.initial_delay)
        while self._claiming:
            if self.paused:
                self._wake.wait(PAUSED_WAIT)
                self._wake.clear()
                continue
            if not self.lease_is_fresh():
                time.sleep(STALE_LEASE_WAIT)
                continue
            wanted = self._free_places()
            if not wanted:
                continue
            self._wake.clear()
            try:
                with self.holdings.claiming():
                    claims = self.backend.claim_tasks(self.group, self.worker_id, wanted)
                    self.holdings.took(claims)
            except Exception as exc:
                self._wake.wait(outage.failed(exc))
                continue
            outage.succeeded()
            self._hand_over(claims)
            if len(claims) < wanted:
                self._wake.wait(self.polling_interval)

    def _free_places(self) -> int:
        """Wait (up to a second) for room in the line; how many tasks to claim."""
        with self._lock:
            if len(self._line) + self._busy >= self.capacity:
                self._has_room.wait(PAUSED_WAIT)
            free = self.capacity - len(self._line) - self._busy
            return max(0, min(free, self.claim_batch)) if self._claiming else 0

    def _hand_over(self, claims: list[Claim]) -> None:
        if claims and self._paused_now():
            # Paused while this claim was in flight: hand the tasks back unstarted.
            for claim in claims:
                self._settler.put(Outcome.released(claim))
            return
        with self._lock:
            self._line.extend(claims)
            self._has_work.notify(len(claims))

    def _paused_now(self) -> bool:
        """Read ``paused`` afresh: another thread may have set it during a claim."""
        return self.paused

    # -- working --------------------------------------------------------------------

    def _work_loop(self) -> None:
        me = threading.get_ident()
        while (attempt := self._next_attempt(me)) is not None:
            outcome: Outcome | None = None
            try:
                if self._claiming:
                    outcome = self._outcome_of(attempt)
                else:
                    outcome = Outcome.released(attempt.claim)
            finally:
                if self._done_with(attempt) and outcome is not None:
                    self._settler.put(outcome)
            if me in self._retired:
                with self._lock:
                    self._retired.discard(me)
                return

    def _next_attempt(self, me: int) -> RunningAttempt | None:
        with self._lock:
            while not self._line and not self._workers_stop:
                self._has_work.wait()
            if not self._line:
                return None
            attempt = RunningAttempt(self._line.popleft(), me)
            self._busy += 1
            self._running[me] = attempt
        if attempt.deadline is not None:
            self._watchdog.watch(attempt)
        return attempt

    def _done_with(self, attempt: RunningAttempt) -> bool:
        """The thread is done with ``attempt``; True if its outcome is still ours to settle."""
        with self._lock:
            self._running.pop(attempt.thread, None)
            return self._decide(attempt)

    def _decide(self, attempt: RunningAttempt) -> bool:
        if attempt.decided:
            return False
        attempt.decided = True
        self._busy -= 1
        self._has_room.notify()
        return True

    # -- what the watchdog needs -------------------------------------------------------

    def running_attempts(self) -> list[RunningAttempt]:
        with self._lock:
            return list(self._running.values())

    def take_decision(self, attempt: RunningAttempt) -> bool:
        """Decide ``attempt``'s outcome in place of its thread; False if it was decided."""
        with self._lock:
            return self._decide(attempt)

    def settle_later(self, outcome: Outcome) -> None:
        self._settler.put(outcome)

    def replace_thread(self, attempt: RunningAttempt) -> bool:
        """Start a thread in place of the one stuck in ``attempt`` (bounded); True if started."""
        with self._lock:
            if self._running.get(attempt.thread) is not attempt:
                return True  # it returned meanwhile
            if len(self._retired) >= self.size or self._workers_stop:
                return False
            self._retired.add(attempt.thread)
            thread = self._new_worker()
            self._workers.append(thread)
        thread.start()
        return True

    def _outcome_of(self, attempt: RunningAttempt) -> Outcome:
        claim = attempt.claim
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
        with running(attempt):
            outcome = run_task(self.handler, task).as_outcome(claim)
        crash_point("before_settle")
        return outcome
