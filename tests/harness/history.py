"""Execution histories written outside the system under test.

Every record is one JSON line, flushed and fsynced before the call returns,
so it survives a SIGKILL of the worker or a crash of the database. Each
process writes its own file; a torn last line is ignored when reading.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from taskkit_core.backend import Outcome


class HistoryWriter:
    """Appends records to ``<directory>/<kind>-<pid>.jsonl``, one fsync per line."""

    def __init__(self, directory: Path, kind: str) -> None:
        self.directory = directory
        self.kind = kind
        self._lock = threading.Lock()
        self._file: Any = None
        self._pid = -1

    def write(self, **record: Any) -> None:
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock:
            handle = self._handle()
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _handle(self) -> Any:
        if self._pid != os.getpid():  # a forked child writes its own file
            self.directory.mkdir(parents=True, exist_ok=True)
            self._file = open(  # noqa: SIM115 - kept open for the life of the process
                self.directory / f"{self.kind}-{os.getpid()}.jsonl", "a", encoding="utf-8"
            )
            self._pid = os.getpid()
        return self._file


def read_history(directory: Path, kind: str) -> list[dict[str, Any]]:
    """Every record of ``kind`` in ``directory``, skipping torn lines."""
    records = []
    for path in sorted(directory.glob(f"{kind}-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the last line of a killed writer
    return records


class SettleRecorder(logging.Handler):
    """Writes the taskkit.settle audit records (one per settle) to a history."""

    def __init__(self, writer: HistoryWriter) -> None:
        super().__init__(logging.DEBUG)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        outcome: Outcome | None = getattr(record, "taskkit_outcome", None)
        if outcome is None:
            return
        claim = outcome.claim
        self.writer.write(
            task_id=claim.task.id,
            attempt=claim.attempt,
            worker=claim.worker_id,
            kind=outcome.kind.value,
            accepted=bool(getattr(record, "taskkit_accepted", False)),
            at=time.time(),
        )


def record_settles(writer: HistoryWriter) -> SettleRecorder:
    """Start writing every settle of this process to ``writer``'s history."""
    recorder = SettleRecorder(writer)
    audit = logging.getLogger("taskkit.settle")
    audit.setLevel(logging.DEBUG)
    for old in [h for h in audit.handlers if isinstance(h, SettleRecorder)]:
        audit.removeHandler(old)  # one recorder per process, or each settle counts twice
    audit.addHandler(recorder)
    return recorder
