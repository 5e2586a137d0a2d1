"""The event loop of a worker process, on which ``async def`` tasks run.

One loop per process, on a daemon thread started by the first async task
(a process whose app has none never starts it). A worker thread that takes
an async task hands the coroutine to the loop and waits for it, so a
group's thread count bounds how many of its coroutines run at once, and
leases, heartbeats, retries and recovery stay exactly those of sync tasks.
A child process (fork) starts a loop of its own. When the attempt is
stopped (its timeout passed, or it was cancelled), the coroutine is
cancelled on the loop and the worker thread is free at once.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..worker.attempt import RunningAttempt, current_attempt

T = TypeVar("T")


class EventLoopThread:
    """An event loop running forever on a thread of its own, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    @property
    def started(self) -> bool:
        """True once this process has started the loop."""
        return self._loop is not None and self._pid == os.getpid()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its value (or exception).

        Inside a worker's attempt, stopping the attempt cancels the coroutine.
        """
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError(
                "an async task cannot be run eagerly from a coroutine on taskkit's own event "
                "loop: await its delay_async() instead"
            )
        attempt = current_attempt()
        if attempt is not None:
            coroutine = _cancelled_when_stopped(coroutine, attempt)
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and self._pid == os.getpid():
            return loop
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=loop.run_forever, name="taskkit-asyncio", daemon=True
        )
        self._thread.start()
        self._loop, self._pid = loop, os.getpid()


async def _cancelled_when_stopped(coroutine: Coroutine[Any, Any, T], attempt: RunningAttempt) -> T:
    """Await ``coroutine``; stopping ``attempt`` cancels it (a hook the task sets wins)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    attempt.on_cancel = lambda: loop.call_soon_threadsafe(task.cancel)
    if attempt.cancelled:
        task.cancel()
    return await coroutine


EVENT_LOOP = EventLoopThread()
"""This process's loop for async tasks."""
