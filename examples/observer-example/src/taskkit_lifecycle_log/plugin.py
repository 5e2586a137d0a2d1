"""The observer: hook implementations that append JSON lines to TASKKIT_LIFECYCLE_LOG.

A plugin module implements only the hooks it needs, each taking only the
arguments it needs. Hooks run in taskkit's threads, outside its locks;
keep them quick. Several processes may append to one file: each line is
written with a single ``write`` on a file opened for appending.
"""

from __future__ import annotations

import json
import os
from typing import Any

from taskkit_core.observers import TaskEvent, WorkerEvent

from taskkit_core import hookimpl


def _log(step: str, **fields: Any) -> None:
    path = os.environ.get("TASKKIT_LIFECYCLE_LOG")
    if not path:
        return
    line = json.dumps({"step": step, "pid": os.getpid(), **fields}) + "\n"
    with open(path, "a", encoding="utf-8") as out:
        out.write(line)


def _task(step: str, event: TaskEvent) -> None:
    if os.environ.get("TASKKIT_LIFECYCLE_LOG_RAISE") == step:
        raise RuntimeError(f"{step} hook failing on purpose")
    _log(
        step,
        task=event.task.id,
        name=event.task.name,
        group=event.task.group,
        attempt=event.attempt,
        queue_wait=event.queue_wait,
        run_time=event.run_time,
    )


@hookimpl
def taskkit_task_enqueued(event: TaskEvent) -> None:
    _task("enqueued", event)


@hookimpl
def taskkit_task_claimed(event: TaskEvent) -> None:
    _task("claimed", event)


@hookimpl
def taskkit_task_started(event: TaskEvent) -> None:
    _task("started", event)


@hookimpl
def taskkit_task_succeeded(event: TaskEvent) -> None:
    _task("succeeded", event)


@hookimpl
def taskkit_task_failed(event: TaskEvent) -> None:
    _task("failed", event)


@hookimpl
def taskkit_task_retried(event: TaskEvent) -> None:
    _task("retried", event)


@hookimpl
def taskkit_worker_started(worker: WorkerEvent) -> None:
    _log("worker started", worker=worker.worker_id, threads=dict(worker.threads))


@hookimpl
def taskkit_worker_stopped(worker: WorkerEvent) -> None:
    _log("worker stopped", worker=worker.worker_id)
