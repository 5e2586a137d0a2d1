"""The supervisor: keeps a number of worker processes running until a signal.

``Kit.start`` (and ``taskkit worker``) run one in the calling process. A
process that dies is started again; SIGTERM or SIGINT drains them all.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from .process import REPEAT_SIGNAL_WINDOW, TaskkitProcess

logger = logging.getLogger("taskkit.process")


class Supervisor:
    """Runs ``count`` processes, restarting any that dies or ``should_restart``.

    SIGTERM or SIGINT forwards SIGTERM to the processes (they drain) and
    waits for them; a second signal a second later forwards it again, which
    makes them stop at once.
    """

    def __init__(
        self,
        start: Callable[[int], TaskkitProcess],
        count: int,
        should_restart: Callable[[TaskkitProcess], bool],
        shutdown_timeout: float,
    ) -> None:
        self.start = start
        self.count = count
        self.should_restart = should_restart
        self.shutdown_timeout = shutdown_timeout
        self.processes: list[TaskkitProcess] = []
        self._stop = threading.Event()
        self._signals: list[tuple[int, float]] = []

    def run(self) -> int:
        """Supervise until a signal; returns the first signal received."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.processes = [self._start(i) for i in range(self.count)]
            while not self._stop.wait(1.0):
                self._restart_dead()
            self._stop_all()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self._signals[0][0] if self._signals else signal.SIGTERM

    def _start(self, index: int) -> TaskkitProcess:
        process = self.start(index)
        logger.info("worker process %d started (pid %s)", index, process.pid)
        return process

    def _restart_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if self._stop.is_set():
                return
            if process.is_alive() and not self.should_restart(process):
                continue
            if not process.is_alive() and process.exitcode == 0:
                continue  # it stopped on a shutdown event: not a crash, do not restart
            if process.is_alive():
                process.terminate()
            process.join()
            logger.warning(
                "worker process %d (pid %s) exited with code %s; restarting",
                index,
                process.pid,
                process.exitcode,
            )
            self.processes[index] = self._start(index)
        if all(not p.is_alive() and p.exitcode == 0 for p in self.processes):
            logger.info("every worker process stopped on a shutdown event")
            self._stop.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._signals and now - self._signals[-1][1] < REPEAT_SIGNAL_WINDOW:
            return
        self._signals.append((signum, now))
        if len(self._signals) > 1:
            self._forward()
        self._stop.set()

    def _forward(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()

    def _stop_all(self) -> None:
        logger.info("stopping %d worker process(es)", len(self.processes))
        self._forward()
        deadline = time.monotonic() + self.shutdown_timeout + 5
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("worker process pid %s did not stop in time; killing", process.pid)
                process.kill()
                process.join()
            logger.info("worker process pid %s stopped (code %s)", process.pid, process.exitcode)
