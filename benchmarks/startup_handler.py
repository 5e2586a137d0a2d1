"""The worker-start benchmark's handler: appends its task's start time to a file.

The other benchmarks record in Redis (as the peers' tasks do), which makes
every worker process import redis-py: about 0.1 s that belongs to the
benchmark, not to the worker. Timing a start needs one timestamp, so this
handler writes it to a file named in the handler (pickled with it into the
worker process) and imports nothing beyond taskkit_core.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from taskkit_core import DiscardTask, JsonHandler, Task

GROUP = "bench"
TASK = "noop"


class StartHandler(JsonHandler):
    """Runs ``noop`` tasks of ``bench`` by appending ``time.time()`` to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def handle(self, task: Task) -> None:
        if task.group != GROUP or task.name != TASK:
            raise DiscardTask
        line = f"{time.time()!r}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None


def first_start(path: Path, timeout: float) -> float:
    """The first time a task recorded in ``path``, waiting at most ``timeout`` s for one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text()).endswith("\n"):
            return float(text.split("\n", 1)[0])
        time.sleep(0.002)
    raise TimeoutError(f"no task started within {timeout} s")
