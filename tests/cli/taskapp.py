"""An app for the CLI tests, imported by the ``taskkit`` subprocesses as ``taskapp``.

Its tasks leave marker files in TASKKIT_TEST_MARKERS, so a test sees a task
start and finish from outside the worker: ``sleep`` writes ``<key>.started``,
sleeps ``seconds`` (or, with ``"gate": true``, waits up to ``seconds`` for the
test to create ``<key>.open``) and writes ``<key>.finished``; ``echo``
returns its data; ``fail`` raises ValueError. With TASKKIT_TEST_SEED (JSON data of a ``sleep``
task) importing the module puts that task into memory://, which is how a
test gives an in-process worker on memory:// something to run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from taskkit_core import JsonHandler, Kit, RegularSchedule, Task

THREADS = {"default": 2, "other": 1}

EVERY_5_SECONDS = [
    {
        "key": "tick",
        "schedule": RegularSchedule(seconds="*"),
        "group": "default",
        "name": "sleep",
        "data": {"key": "scheduled", "seconds": 0},
    }
]


def _markers() -> Path:
    return Path(os.environ.get("TASKKIT_TEST_MARKERS", "."))


def _sleep(data: dict[str, Any]) -> None:
    deadline = time.monotonic() + float(data["seconds"])
    if not data.get("gate"):
        time.sleep(float(data["seconds"]))
        return
    gate = _markers() / f"{data['key']}.open"
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


class MarkerHandler(JsonHandler):
    """JSON data and results; the behaviour is chosen by the task name."""

    def handle(self, task: Task) -> Any:
        data = json.loads(task.data)
        if task.name == "fail":
            raise ValueError(f"failing on purpose: {data}")
        if task.name == "sleep":
            (_markers() / f"{data['key']}.started").touch()
            _sleep(data)
            (_markers() / f"{data['key']}.finished").touch()
        return data

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None


handler = MarkerHandler()

if os.environ.get("TASKKIT_TEST_SEED"):
    Kit.from_url("memory://", handler).initiate_task(
        "default", "sleep", json.loads(os.environ["TASKKIT_TEST_SEED"])
    )
