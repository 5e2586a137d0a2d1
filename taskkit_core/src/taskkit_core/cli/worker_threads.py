"""``taskkit worker`` in one process: the worker threads run here, not in children.

The mode for backends that live inside one process (memory://, without the
``multi_process`` capability) and for ``--processes 0``. Signals mean what
they mean to the supervisor: the first SIGTERM or Ctrl-C stops claiming and
lets running tasks finish within the shutdown timeout (exit 0); a second
one, however soon, puts running tasks back in the queue and exits at once
(130 after Ctrl-C, 143 after SIGTERM). A ``taskkit shutdown`` event for
every group stops it too.

Task code runs in this process, so only SIGINT is read with its sender
(``stop_signals``): task threads inherit it blocked, as worker processes
ignore it, and a Ctrl-C forwarded by a wrapper counts once. SIGTERM stays
unblocked, so subprocesses that tasks start can still be terminated; each
of its copies counts (run with ``--processes 1`` under a wrapper that
forwards a group-wide SIGTERM).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from ..worker.runtime import WorkerRuntime
from ..worker.stop_signals import Stopped, StopSignals, again_hint, signal_name

logger = logging.getLogger("taskkit.cli")

WAIT_SLICE = 0.2
"""How often the main thread looks for a forced stop while the runtime drains."""


class ThreadsWorker:
    """Starts a runtime and waits for it to stop, turning stop actions into stop requests.

    The listener is in place before the runtime starts, so a signal that
    comes while it starts is not lost (nor a KeyboardInterrupt).
    """

    def __init__(self, shutdown_timeout: float) -> None:
        self.shutdown_timeout = shutdown_timeout
        self.runtime: WorkerRuntime | None = None
        self._actions: list[int] = []
        self._forced = threading.Event()
        self._lock = threading.Lock()  # an action is answered by the listener or by run(), once

    def run(self, start: Callable[[], WorkerRuntime]) -> Stopped:
        """Start the runtime; block until it stopped (drained, or forced by a second action)."""
        with StopSignals(self._on_action, waited=[signal.SIGINT], handled=[signal.SIGTERM]):
            runtime = start()
            with self._lock:
                self.runtime = runtime
                early = list(self._actions)
            if early:  # a stop came while the runtime started: answered now it can count
                self._first_stop(runtime, early[0])
            while not runtime.wait(WAIT_SLICE):
                if self._forced.is_set():
                    runtime.abort()
                    break
        if not self._actions:
            return Stopped()
        return Stopped(self._actions[-1], forced=self._forced.is_set())

    def _first_stop(self, runtime: WorkerRuntime, signum: int) -> None:
        logger.warning(
            "%s: finishing %d running task(s), up to %.0f s; %s to stop now",
            signal_name(signum),
            runtime.running_count(),
            self.shutdown_timeout,
            again_hint(signum),
        )
        runtime.request_stop(release_running=True)

    def _on_action(self, action: int, signum: int) -> None:
        """The user's ``action``-th stop (on the listener thread)."""
        with self._lock:
            self._actions.append(signum)
            runtime = self.runtime
        if action == 1:
            if runtime is not None:  # else run() answers it once the runtime has started
                self._first_stop(runtime, signum)
        elif action == 2:
            logger.warning(
                "%s again: stopping now; running tasks go back to the queue",
                signal_name(signum),
            )
            self._forced.set()
