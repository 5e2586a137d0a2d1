"""A supervisor (``Kit.start``) in a process of its own, over the reliability workload.

``Kit.start`` blocks and owns its process's signals, so a test runs it in a
spawned process and stops it with SIGTERM, as an init system would.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.process import BaseProcess
from pathlib import Path

from taskkit_core.opening import connect

from taskkit_core import Kit, WorkerSettings

from .app import ReliabilityHandler


def _supervise(
    url: str, namespace: str, history_dir: Path, settings: WorkerSettings, threads: int
) -> None:
    connection = connect(url, namespace=namespace)
    kit = Kit(
        connection.backend,
        connection.bridge,
        ReliabilityHandler(history_dir),
        settings=settings,
        backend_options={"namespace": namespace},
    )
    kit.start(1, {"r": threads}, polling_interval=0.2)


def start_supervisor(
    url: str, namespace: str, history_dir: Path, settings: WorkerSettings, threads: int = 2
) -> BaseProcess:
    """A started process running ``Kit.start(1, {"r": threads})``; SIGTERM drains it."""
    process = multiprocessing.get_context("spawn").Process(
        target=_supervise, args=(url, namespace, history_dir, settings, threads), daemon=False
    )
    process.start()
    return process
