"""The supervisor: keeps a number of worker processes running until a signal.

``Kit.start`` (and ``taskkit worker``) run one in the calling process. A
process that dies is started again. The supervisor runs no task code, so it
blocks SIGINT and SIGTERM and reads each with its sender (``stop_signals``):
a keypress that reaches it twice (directly, and through a wrapper such as
``uv run``) counts once. The first action orders every process to drain,
the second to stop at once (``stop_orders``). Given a LeaseKeeper, it also
renews its processes' leases, which their GIL cannot delay (``lease_keeper``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .lease_keeper import LeaseKeeper
from .process import TaskkitProcess
from .services import ServiceThread
from .stop_orders import ABORT, DRAIN
from .stop_signals import Stopped, StopSignals, again_hint, signal_name

logger = logging.getLogger("taskkit.process")

ABORT_GRACE = 5.0
"""Seconds a process ordered to stop at once has before it is killed."""


class Supervisor:
    """Runs ``count`` processes, restarting any that dies or ``should_restart``.

    SIGTERM or SIGINT orders the processes to drain and waits for them; a
    second one, however soon, orders them to stop at once.
    """

    def __init__(
        self,
        start: Callable[[int], TaskkitProcess],
        count: int,
        should_restart: Callable[[TaskkitProcess], bool],
        shutdown_timeout: float,
        keeper: LeaseKeeper | None = None,
    ) -> None:
        self.start = start
        self.count = count
        self.should_restart = should_restart
        self.shutdown_timeout = shutdown_timeout
        self.processes: list[TaskkitProcess] = []
        self._stop = threading.Event()
        self._actions: list[int] = []
        self._signals = StopSignals(self._on_action)
        self._aborted_by = float("inf")
        self._keeper_stop = threading.Event()
        self._keeper = (
            None if keeper is None else ServiceThread(keeper, "lease keeper", self._keeper_stop)
        )

    def run(self) -> Stopped:
        """Supervise until a signal (or a shutdown event for every group); say how it ended."""
        _start_resource_tracker()
        with self._signals:
            self.processes = [self._start(i) for i in range(self.count)]
            if self._keeper is not None:
                self._keeper.start()
            try:
                while not self._stop.wait(1.0):
                    self._restart_dead()
                self._stop_all()
            finally:
                self._keeper_stop.set()
        if not self._actions:
            return Stopped()
        return Stopped(self._actions[-1], forced=len(self._actions) > 1)

    def _start(self, index: int) -> TaskkitProcess:
        process = self.start(index)
        self._signals.block_again()  # starting a process may have unblocked them
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

    def _on_action(self, action: int, signum: int) -> None:
        """The user's ``action``-th stop (on the listener thread): drain, then abort."""
        self._actions.append(signum)
        if action == 1:
            logger.warning(
                "%s: stopping %d worker process(es): they finish their running tasks, "
                "up to %.0f s; %s to stop now",
                signal_name(signum),
                self.count,
                self.shutdown_timeout,
                again_hint(signum),
            )
            self._stop.set()
        elif action == 2:
            logger.warning(
                "%s again: stopping now; running tasks go back to the queue",
                signal_name(signum),
            )
            self._aborted_by = time.monotonic() + ABORT_GRACE
            self._order(ABORT)

    def _order(self, level: int) -> None:
        for process in self.processes:
            if process.is_alive():
                process.order_stop(level)

    def _stop_all(self) -> None:
        logger.info("stopping %d worker process(es)", len(self.processes))
        self._order(ABORT if len(self._actions) > 1 else DRAIN)
        drained_by = time.monotonic() + self.shutdown_timeout + 5
        for process in self.processes:
            while process.is_alive() and time.monotonic() < min(drained_by, self._aborted_by):
                process.join(0.1)
            if process.is_alive():
                logger.warning("worker process pid %s did not stop in time; killing", process.pid)
                process.kill()
                process.join()
            logger.info("worker process pid %s stopped (code %s)", process.pid, process.exitcode)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker before the stop signals are blocked.

    Starting it unblocks SIGINT and SIGTERM in the calling thread (CPython
    3.11-3.13), which would let their copies reach the ordinary handler
    without a sender.
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
