"""An observer module named in TASKKIT_OBSERVERS by tests/observers/test_hooks.py."""

from __future__ import annotations

from taskkit_core.observers import WorkerEvent

from taskkit_core import hookimpl

STARTED: list[str] = []


@hookimpl
def taskkit_worker_started(worker: WorkerEvent) -> None:
    STARTED.append(worker.worker_id)
