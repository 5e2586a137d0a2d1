"""How a worker process stops: its own SIGTERMs and its supervisor's orders.

The supervisor counts the user's stop actions (``stop_signals``) and passes
them to its processes as orders on a pipe, not as signals: a group-wide
SIGTERM (``kill -TERM -PGID``, systemd) reaches a worker process directly
as well as through its supervisor, and two signals would read as two
actions. A worker process goes as far as the furthest of the two sources:
its own SIGTERM count (someone signalled this process alone) and the
supervisor's last order. 1 drains, 2 aborts (exit code 143).

The worker process blocks nothing: its task threads, and the subprocesses
they start, see signals as usual. It ignores SIGINT, which a terminal sends
to the whole process group; the supervisor decides what a Ctrl-C means.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
from multiprocessing.connection import Connection
from types import FrameType

from .runtime import WorkerRuntime

logger = logging.getLogger("taskkit.process")

DRAIN = 1
ABORT = 2
EXIT_ABORTED = 128 + signal.SIGTERM
"""A worker process stopped at once exits like one killed by SIGTERM."""


def send_order(orders: Connection, level: int) -> None:
    """The supervisor's side: order a worker process to drain or abort (if it still listens)."""
    with contextlib.suppress(OSError):  # the process is gone
        orders.send(level)


class ProcessStop:
    """Applies the furthest of this process's SIGTERMs and its supervisor's orders."""

    def __init__(self, runtime: WorkerRuntime, orders: Connection) -> None:
        self.runtime = runtime
        self.orders = orders
        self._inbox: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self._own = 0
        self._ordered = 0
        self._reached = 0

    def install(self) -> None:
        """Install the handler (main thread) and start the threads that apply it."""
        signal.signal(signal.SIGTERM, self._on_sigterm)
        # A supervisor blocks the stop signals while it reads their senders, and
        # its children inherit that mask: unblock, so task code sees SIGTERM.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))
        for target, name in ((self._read_orders, "orders"), (self._apply, "stop")):
            threading.Thread(target=target, name=f"taskkit-{name}", daemon=True).start()

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self._inbox.put(("signal", 1))  # SimpleQueue.put is safe in a handler

    def _read_orders(self) -> None:
        while True:
            try:
                level = int(self.orders.recv())
            except (EOFError, OSError):
                return  # the supervisor is gone; own signals still work
            self._inbox.put(("order", level))

    def _apply(self) -> None:
        while True:
            source, value = self._inbox.get()
            if source == "signal":
                self._own += value
            else:
                self._ordered = max(self._ordered, value)
            level = max(self._own, self._ordered)
            if level > self._reached:
                self._reached = level
                self._reach(level)

    def _reach(self, level: int) -> None:
        runtime, running = self.runtime, self.runtime.running_count()
        if level == DRAIN:
            logger.warning(
                "worker %s: finishing %d running task(s), up to %.0f s",
                runtime.worker_id,
                running,
                runtime.settings.shutdown_timeout,
            )
            runtime.request_stop(release_running=True)
            return
        logger.warning(
            "worker %s: stopping now, putting %d running task(s) back in the queue",
            runtime.worker_id,
            running,
        )
        runtime.abort()
        os._exit(EXIT_ABORTED)
