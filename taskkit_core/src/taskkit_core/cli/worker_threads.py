"""``taskkit worker`` in one process: the worker threads run here, not in children.

The mode for backends that live inside one process (memory://, without the
``multi_process`` capability) and for ``--processes 0``. Signals behave as
in a worker process: the first SIGTERM or Ctrl-C stops claiming and lets
running tasks finish within the shutdown timeout; a second signal at least
a second later puts running tasks back in the queue and exits at once.
A ``taskkit shutdown`` event for every group stops it too.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

from ..worker.process import REPEAT_SIGNAL_WINDOW
from ..worker.runtime import WorkerRuntime

logger = logging.getLogger("taskkit.cli")

WAIT_SLICE = 0.5
"""How often the main thread wakes up while it waits (keeps signals prompt)."""


class _StopNow(Exception):
    """Raised by the second signal to leave the wait at once."""


class ThreadsWorker:
    """Starts a runtime and waits for it to stop, turning signals into stop requests.

    The signal handlers are in place before the runtime starts, so a signal
    that comes while it starts is not lost (nor a KeyboardInterrupt).
    """

    def __init__(self, shutdown_timeout: float) -> None:
        self.shutdown_timeout = shutdown_timeout
        self.runtime: WorkerRuntime | None = None
        self._first_signal: float | None = None

    def run(self, start: Callable[[], WorkerRuntime]) -> None:
        """Start the runtime; block until it stopped (drained, or forced by a second signal)."""
        signums = (signal.SIGTERM, signal.SIGINT)
        previous = {s: signal.signal(s, self._on_signal) for s in signums}
        try:
            self.runtime = start()
            if self._first_signal is not None:
                self.runtime.request_stop(release_running=True)
            while not self.runtime.wait(WAIT_SLICE):
                pass
        except _StopNow:
            self._stop_now()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._first_signal is None:
            self._first_signal = now
            logger.info(
                "%s: finishing running tasks (up to %.0f s); send it again to stop at once",
                signal.Signals(signum).name,
                self.shutdown_timeout,
            )
            if self.runtime is not None:
                self.runtime.request_stop(release_running=True)
        elif now - self._first_signal >= REPEAT_SIGNAL_WINDOW:
            raise _StopNow

    def _stop_now(self) -> None:
        logger.warning("second signal: putting running tasks back and exiting now")
        if self.runtime is not None:
            self.runtime.abort()
