"""The reliability workload: a handler that writes every execution to a history.

Task payloads are ``{"seq": n, "sleep": seconds, "mode": ...}``. The handler
records the start and the end of each execution (with the worker, attempt,
pid, and at the start when the claim was made) in ``exec-<pid>.jsonl``
under TASKKIT_HISTORY_DIR, and returns
``{"seq", "attempt", "pid", "worker"}`` so the checker can tell which
execution's result was stored.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from taskkit_core import JsonHandler, Task, current_claim

from .history import HistoryWriter, record_settles

HISTORY_ENV = "TASKKIT_HISTORY_DIR"


@functools.cache
def _shuffled() -> list[float]:
    return [random.random() for _ in range(1_000_000)]


_SETUP_LOCK = threading.Lock()


class ReliabilityHandler(JsonHandler):
    """Runs the workload tasks and writes their executions outside the backend."""

    def __init__(self, history_dir: Path) -> None:
        self.history_dir = history_dir
        self._writer: HistoryWriter | None = None
        self._settles: HistoryWriter | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"history_dir": self.history_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["history_dir"])  # type: ignore[misc]

    def _history(self) -> HistoryWriter:
        with _SETUP_LOCK:  # the first tasks of a process start on several threads at once
            if self._writer is None or self._writer._pid not in (-1, os.getpid()):
                self._writer = HistoryWriter(self.history_dir, "exec")
                self._settles = HistoryWriter(self.history_dir, "settle")
                record_settles(self._settles)
            return self._writer

    def handle(self, task: Task) -> Any:
        history = self._history()
        claim = current_claim()
        attempt = claim.attempt if claim else 0
        worker = claim.worker_id if claim else "eager"
        data = json.loads(task.data)
        history.write(
            task_id=task.id,
            seq=data["seq"],
            attempt=attempt,
            worker=worker,
            pid=os.getpid(),
            event="start",
            at=time.time(),
            claimed=claim.began if claim else None,  # the claim log: when this claim was made
        )
        self._work(data)
        history.write(
            task_id=task.id,
            seq=data["seq"],
            attempt=attempt,
            worker=worker,
            pid=os.getpid(),
            event="end",
            at=time.time(),
        )
        return {"seq": data["seq"], "attempt": attempt, "pid": os.getpid(), "worker": worker}

    def _work(self, data: dict[str, Any]) -> None:
        mode = data.get("mode", "sleep")
        seconds = float(data.get("sleep", 0))
        if mode == "sleep":
            time.sleep(seconds)
        elif mode == "busy":  # pure Python: holds the GIL between bytecodes
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                sum(range(1000))
        elif mode == "gil":  # C calls holding the GIL in ~0.3 s slices (sorting)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                sorted(_shuffled())
        elif mode == "exit":
            os._exit(1)
        elif mode == "segfault":
            ctypes.string_at(0)
        elif mode == "fail":
            raise ValueError(f"task {data['seq']} fails on purpose")
        elif mode == "flaky":  # fails on its first data["failures"] attempts
            claim = current_claim()
            if claim is not None and claim.attempt <= int(data["failures"]):
                raise ValueError(f"task {data['seq']} fails attempt {claim.attempt}")

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        retry = json.loads(task.data).get("retry")
        return None if retry is None else float(retry)
