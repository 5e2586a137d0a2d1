"""Serving ``/metrics``: one port per process that starts workers.

- Worker threads in this process (``taskkit worker --processes 0``,
  ``Kit.start_threads``): this process serves its own metrics, with
  prometheus_client's default registry, so metrics the application
  registers itself are on the same page.
- Worker processes (``taskkit worker``, ``Kit.start``,
  ``Kit.start_processes``): before the first one starts, this process
  points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory (unless the
  environment already names one), which every worker process inherits and
  writes its metrics into; this process serves their combination
  (prometheus_client's multiprocess mode). So a host has one scrape target
  however many processes run, and a restarted process continues the
  counts of the one it replaced. The files of a dead process stay counted
  (counters never go down); its gauges are dropped at the next scrape.

Only this second case needs the variable set before prometheus_client is
imported anywhere, which is why nothing here imports it at module level.
Kit imports this module in every worker process, metrics on or not, so
what only serving needs (prometheus_client, tempfile, shutil) is imported
when it serves.
"""

from __future__ import annotations

import atexit
import glob
import logging
import os
import re
import threading
from typing import Any

from ...settings import WorkerSettings
from . import require_client

logger = logging.getLogger("taskkit.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db$")
_served: dict[tuple[str, int], Any] = {}
_lock = threading.Lock()


def serve_metrics(settings: WorkerSettings, *, processes: bool) -> int | None:
    """Serve the metrics of workers started with ``settings`` (once per address and port).

    ``processes``: the workers are child processes (their metrics are
    combined through the multiprocess directory). Returns the port served,
    None when ``settings.metrics_port`` is None.
    """
    if settings.metrics_port is None:
        return None
    require_client()
    key = (settings.metrics_address, settings.metrics_port)
    with _lock:
        if key not in _served:
            if processes:
                _choose_multiprocess_dir()
            _served[key] = _start_server(*key)
    server = _served[key]
    return int(server.server_port)


def _choose_multiprocess_dir() -> None:
    if os.environ.get(MULTIPROC_ENV):
        return
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="taskkit-metrics-")
    os.environ[MULTIPROC_ENV] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


def _start_server(address: str, port: int) -> Any:
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=address, registry=_registry())
    logger.info("serving Prometheus metrics on http://%s:%d/metrics", address, server.server_port)
    return server


def _registry() -> Any:
    from prometheus_client import REGISTRY, CollectorRegistry

    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    _LiveProcesses(registry, path)
    return registry


class _LiveProcesses:
    """The multiprocess collector, dropping the live gauges of dead processes first."""

    def __init__(self, registry: Any, path: str) -> None:
        from prometheus_client.multiprocess import MultiProcessCollector

        self._path = path
        # prometheus_client.multiprocess carries no annotations: the ignores below say so.
        self._combined = MultiProcessCollector(None, path=path)  # type: ignore[no-untyped-call]
        registry.register(self)

    def collect(self) -> Any:
        forget_dead_processes(self._path)
        return self._combined.collect()  # type: ignore[no-untyped-call]


def forget_dead_processes(path: str) -> list[int]:
    """Drop the live-mode gauge files of processes that no longer run; their pids."""
    from prometheus_client.multiprocess import mark_process_dead

    dead = sorted(
        {
            int(match.group(1))
            for name in glob.glob(os.path.join(path, "gauge_live*.db"))
            if (match := _LIVE_FILE.search(name)) and not _alive(int(match.group(1)))
        }
    )
    for pid in dead:
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_serving() -> None:
    """Stop every metrics server of this process (tests)."""
    with _lock:
        for server in _served.values():
            server.shutdown()
            server.server_close()
        _served.clear()
