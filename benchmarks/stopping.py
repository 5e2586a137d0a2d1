"""Stopping the worker processes a benchmark started: SIGTERM, then SIGKILL after a grace.

Standard library only: the worker programs that import it
(``startup_launcher``) are re-imported in their spawned worker process,
whose start-up they measure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from multiprocessing.process import BaseProcess

logger = logging.getLogger("benchmarks")


def stop_processes(processes: Iterable[BaseProcess], grace: float) -> None:
    """SIGTERM every live process (it drains), kill what is left after ``grace`` s."""
    processes = list(processes)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.1, deadline - time.monotonic()))
        if process.is_alive():
            logger.warning("worker pid %s did not stop in %.0f s; killing", process.pid, grace)
            process.kill()
            process.join(5)
