"""The running attempt: the claim a worker thread is running, and its cancel flag.

A worker thread runs each claim inside a :class:`RunningAttempt`, reachable
from the handler through :func:`current_attempt`. When the attempt's
timeout passes or a cancel request reaches the worker, the pool sets the
flag and decides the attempt's outcome at once; the handler can look at
``cancelled`` or call ``check_cancelled()`` to stop early (a sync handler
is stopped only if it does). ``on_cancel`` is the slot for stopping code
that can be stopped for real: an async runner sets it to cancel its
asyncio task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..backend import Claim
from ..errors import TaskCancelled, TaskTimeout

logger = logging.getLogger("taskkit.worker")

TIMEOUT = "timeout"
CANCEL = "cancel"


class RunningAttempt:
    """One claim being run by one worker thread.

    ``deadline`` is the monotonic time its timeout ends (None without one);
    ``reason`` says why it was stopped (TIMEOUT or CANCEL, None while it
    runs on); ``decided`` is set by whoever decided its outcome first, the
    thread that ran it or the pool that stopped it.
    """

    __slots__ = ("claim", "deadline", "decided", "on_cancel", "reason", "stuck_check", "thread")

    def __init__(self, claim: Claim, thread: int) -> None:
        self.claim = claim
        self.thread = thread
        timeout = claim.task.timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.reason: str | None = None
        self.decided = False
        self.on_cancel: Callable[[], object] | None = None
        self.stuck_check: float | None = None

    def __repr__(self) -> str:
        return f"RunningAttempt({self.claim.task.id}, attempt={self.claim.attempt})"

    @property
    def cancelled(self) -> bool:
        """Whether the attempt was stopped (timeout or cancel request); its outcome is decided."""
        return self.reason is not None

    def check_cancelled(self) -> None:
        """Raise TaskTimeout or TaskCancelled once the attempt was stopped; else return."""
        if self.reason == TIMEOUT:
            raise TaskTimeout(self.timeout_message())
        if self.reason == CANCEL:
            raise TaskCancelled(f"task {self.claim.task.id} was cancelled while running")

    def timeout_message(self) -> str:
        task = self.claim.task
        return f"task {task.id} ({task.name}) exceeded its timeout of {task.timeout:g} s"

    def stop(self, reason: str) -> None:
        """Set the flag (the first reason wins) and call ``on_cancel``."""
        if self.reason is not None:
            return
        self.reason = reason
        if self.on_cancel is not None:
            try:
                self.on_cancel()
            except Exception:
                logger.exception("the cancel hook of task %s raised", self.claim.task.id)


_current: ContextVar[RunningAttempt | None] = ContextVar("taskkit_attempt", default=None)


def current_attempt() -> RunningAttempt | None:
    """The attempt running in this thread (or coroutine), or None outside a worker's run."""
    return _current.get()


def current_claim() -> Claim | None:
    """The claim of the task running in this thread (worker id, attempt), or None."""
    attempt = _current.get()
    return None if attempt is None else attempt.claim


@contextmanager
def running(attempt: RunningAttempt) -> Iterator[RunningAttempt]:
    """Make ``attempt`` the current one inside the block."""
    token = _current.set(attempt)
    try:
        yield attempt
    finally:
        _current.reset(token)
