"""The watchdog of a group's pool: timeouts, cancel requests and stuck threads.

When a running attempt's timeout passes, or a cancel request for it
arrives with the heartbeat, the watchdog decides its outcome at once
(retried or failed by the retry policy with a TaskTimeout error, or
cancelled) and hands it to the settler, then sets the attempt's cancel
flag. The handler's own late outcome is dropped. A thread still inside the
handler ``STUCK_GRACE`` seconds later is stuck: its stack is logged once
and the pool starts a replacement, so the group keeps its thread count
(at most as many replacements alive as the group has threads).

Its thread starts with the first attempt that has a timeout or the first
cancel request, so a group that uses neither pays nothing.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from typing import Protocol

from ..backend import Outcome
from ..handler import TaskHandler
from .attempt import CANCEL, TIMEOUT, RunningAttempt
from .task_run import timed_out

logger = logging.getLogger("taskkit.worker")

STUCK_GRACE = 1.0
"""Seconds a stopped handler has to return before its thread counts as stuck."""

IDLE_WAIT = 5.0


class Watched(Protocol):
    """What the watchdog needs of its pool."""

    group: str

    def running_attempts(self) -> list[RunningAttempt]: ...

    def take_decision(self, attempt: RunningAttempt) -> bool: ...

    def settle_later(self, outcome: Outcome) -> None: ...

    def replace_thread(self, attempt: RunningAttempt) -> bool: ...


class Watchdog:
    """Stops attempts that overran or were cancelled; replaces threads stuck in them."""

    def __init__(self, pool: Watched, handler: TaskHandler) -> None:
        self._pool = pool
        self._handler = handler
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def watch(self, attempt: RunningAttempt) -> None:
        """A timed attempt started: make sure its deadline is watched."""
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name=f"taskkit-watchdog[{self._pool.group}]", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def cancel(self, attempt: RunningAttempt) -> None:
        """A cancel request reached this running attempt: end it as cancelled."""
        if self._pool.take_decision(attempt):
            message = f"cancelled while running (attempt {attempt.claim.attempt})"
            self._pool.settle_later(Outcome.cancelled(attempt.claim, message))
            self._stopped_now(attempt, CANCEL)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self._cond.wait(self._next_wait())
            self._check(time.monotonic())

    def _next_wait(self) -> float:
        times = [t for a in self._pool.running_attempts() for t in _times(a)]
        return max(0.0, min(times, default=time.monotonic() + IDLE_WAIT) - time.monotonic())

    def _check(self, now: float) -> None:
        for attempt in self._pool.running_attempts():
            if attempt.deadline is not None and attempt.deadline <= now:
                self._expire(attempt)
            if attempt.stuck_check is not None and attempt.stuck_check <= now:
                attempt.stuck_check = None
                self._replace(attempt)

    def _expire(self, attempt: RunningAttempt) -> None:
        attempt.deadline = None
        if self._pool.take_decision(attempt):
            verdict = timed_out(self._handler, attempt.claim.task, attempt.timeout_message())
            self._pool.settle_later(verdict.as_outcome(attempt.claim))
            self._stopped_now(attempt, TIMEOUT)

    def _stopped_now(self, attempt: RunningAttempt, reason: str) -> None:
        attempt.stop(reason)
        with self._cond:
            attempt.stuck_check = time.monotonic() + STUCK_GRACE
        self.watch(attempt)

    def _replace(self, attempt: RunningAttempt) -> None:
        task = attempt.claim.task
        replaced = self._pool.replace_thread(attempt)
        logger.warning(
            "task %s (%s) is still running %.0f s after it was stopped (%s); %s. "
            "Its thread's stack:\n%s",
            task.id,
            task.name,
            STUCK_GRACE,
            attempt.reason,
            "a replacement thread keeps the group at full strength"
            if replaced
            else "no replacement: the group already runs as many replacements as threads",
            _stack_of(attempt.thread),
        )


def _times(attempt: RunningAttempt) -> list[float]:
    return [t for t in (attempt.deadline, attempt.stuck_check) if t is not None]


def _stack_of(thread: int) -> str:
    frame = sys._current_frames().get(thread)
    if frame is None:
        return "  (the thread has just ended)"
    return "".join(traceback.format_stack(frame))
