"""The typed result handle of a task function's call, for sync and asyncio callers."""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

from ..errors import NoResult
from ..result import (
    FIRST_POLL_DELAY,
    MAX_POLL_DELAY,
    Result,
    ResultGetPrevented,
    ResultGetTimedOut,
    _prevent_reason,
)

R = TypeVar("R")


class TaskResult(Result[R]):
    """``get()`` returns what the task function returned, typed as it declares.

    ``await get_async(...)`` waits without blocking the event loop: each
    look at the backend runs on a thread (``asyncio.to_thread``, since the
    backends' clients are synchronous) and the waits between looks are
    ``asyncio.sleep``, so no thread is held while the task runs.
    """

    @property
    def id(self) -> str:
        """The task's id (also ``task_id``)."""
        return self.task_id

    def __repr__(self) -> str:
        return f"TaskResult(task_id={self.task_id!r})"

    async def get_async(self, timeout: float | None = None, avoid_assertion: bool = False) -> R:
        """Wait for the result as ``get`` does (with the same errors), from a coroutine."""
        reason = _prevent_reason.get()
        if reason is not None and not avoid_assertion:
            raise ResultGetPrevented(reason)
        waits = _Waits(self.task_id, timeout)
        while True:
            try:
                return await asyncio.to_thread(self._fetch)
            except NoResult:
                await asyncio.sleep(waits.next())


class _Waits:
    """The growing pauses between two looks at the backend, bounded by the timeout."""

    def __init__(self, task_id: str, timeout: float | None) -> None:
        self.task_id = task_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.delay = FIRST_POLL_DELAY / 2

    def next(self) -> float:
        """The next pause; ResultGetTimedOut when the deadline has passed."""
        self.delay = min(self.delay * 2, MAX_POLL_DELAY)
        if self.deadline is None:
            return self.delay
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ResultGetTimedOut(f"task {self.task_id} did not finish within {self.timeout} s")
        return min(self.delay, remaining)
