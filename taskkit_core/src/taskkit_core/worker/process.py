"""Worker processes: one WorkerRuntime each, over a backend opened from the URL.

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
import signal
import time
from collections.abc import Mapping
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from ..handler import TaskHandler
from ..opening import connect
from .plan import RuntimeConfig
from .runtime import WorkerRuntime

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
    """The formatter of this process's first root handler, if it is made to travel to a child.

    A formatter says so with ``taskkit_portable = True`` (``--log-format
    json``'s does); any other stays, and the child formats with the format
    string alone.
    """
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        return formatter if getattr(formatter, "taskkit_portable", False) else None
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
