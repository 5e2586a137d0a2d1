"""Worker processes and the supervisor that keeps them running.

A worker process never uses a connection of its parent: it opens its
backend from the URL (and imports the handler, under spawn and
forkserver) and runs one WorkerRuntime in its main thread. This works
under the fork, forkserver and spawn start methods; spawn is the default
(see default_start_method).

Signals: a worker process ignores SIGINT (a terminal's Ctrl-C reaches the
whole process group; the supervisor forwards it as SIGTERM). The first
SIGTERM stops claiming and lets running tasks finish within the shutdown
timeout; a SIGTERM at least a second later puts running tasks back in the
queue and exits at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Mapping
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from .handler import TaskHandler
from .registry import connect
from .runtime import WorkerRuntime
from .settings import RuntimeConfig

logger = logging.getLogger("taskkit.process")


def default_start_method() -> str:
    """spawn: a worker process starts from a fresh interpreter, never a fork.

    A child forked from a parent with running threads can inherit a lock one
    of them held (SQLite's, a driver's, logging's) and hang on it for ever.
    forkserver avoids that too, but its server process dies with a SIGTERM
    sent to the whole process group and takes the supervisor's view of its
    children with it. Under spawn the handler must be importable (defined at
    the top level of a module, the main script guarded by ``if __name__ ==
    "__main__":``). Pass ``start_method="fork"`` or "forkserver" to choose.
    """
    return "spawn"


REPEAT_SIGNAL_WINDOW = 1.0
"""Signals closer together than this count as one (killpg plus a forwarded signal)."""


class TaskkitProcess(BaseProcess):
    """One worker process: a WorkerRuntime over a backend opened from the URL."""

    def __init__(
        self,
        *,
        url: str,
        backend_options: Mapping[str, Any],
        handler: TaskHandler,
        config: RuntimeConfig,
        start_method: str | None = None,
        daemon: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name, daemon=daemon)
        self.url = url
        self.backend_options = dict(backend_options)
        self.handler = handler
        self.config = config
        self.num_worker_threads = config.threads_per_group
        self.start_method = start_method or default_start_method()
        # multiprocessing's bootstrap in the child reads this.
        self._start_method = self.start_method
        self.log_level = logging.getLogger().getEffectiveLevel()
        self.log_format = _root_log_format()
        self.log_formatter = _portable_root_formatter()
        self._terminate_event = multiprocessing.get_context(self.start_method).Event()

    def _Popen(self, process_obj: BaseProcess) -> Any:
        # Start with the chosen method, as the context's own Process class would.
        context = multiprocessing.get_context(self.start_method)
        return context.Process._Popen(process_obj)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<TaskkitProcess pid={self.pid} threads={self.num_worker_threads}>"

    def is_active(self) -> bool:
        """False once the process has begun to shut down."""
        return not self._terminate_event.is_set()

    def run(self) -> None:
        if not logging.getLogger().handlers:
            logging.basicConfig(level=self.log_level, format=self.log_format)
            for handler in logging.getLogger().handlers:
                handler.setFormatter(self.log_formatter or handler.formatter)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        connection = connect(self.url, **self.backend_options)
        runtime = WorkerRuntime(connection.backend, connection.bridge, self.handler, self.config)
        _install_stop_signals(runtime)
        runtime.start(handle_events=False)
        try:
            runtime.run_until_stopped()
        finally:
            self._terminate_event.set()
            connection.close()


def _root_log_format() -> str:
    """The format of this process's first root handler, so worker processes log alike."""
    for handler in logging.getLogger().handlers:
        if handler.formatter is not None and handler.formatter._fmt:
            return handler.formatter._fmt
    return logging.BASIC_FORMAT


def _portable_root_formatter() -> logging.Formatter | None:
    """The formatter of this process's first root handler, if it can travel to a child."""
    for handler in logging.getLogger().handlers:
        try:
            pickle.dumps(handler.formatter)
        except Exception:
            return None
        return handler.formatter
    return None


def _install_stop_signals(runtime: WorkerRuntime) -> None:
    first: list[float] = []

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if not first:
            first.append(now)
            runtime.request_stop(release_running=True)
        elif now - first[0] >= REPEAT_SIGNAL_WINDOW:
            logger.warning("second signal: putting running tasks back and exiting now")
            runtime.abort()
            os._exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)


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
