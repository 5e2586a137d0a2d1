"""Reliability tests (RELIABILITY.md): break things for real, then run the checker.

Timings follow the plan: heartbeat H = 1 s, worker TTL = 3 s, restore
interval R = 1 s, poll interval P = 0.2 s, slack 1.5 s on 2 cores.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from harness.app import ReliabilityHandler
from harness.checker import Report, check
from sqlalchemy.engine import make_url
from taskkit_core.testing import OpenConnection, wait_until
from taskkit_core.testing.support import task_args

from taskkit_core import Kit, TaskkitProcess, WorkerRuntime, WorkerSettings

H, TTL, R, P, SLACK = 1.0, 3.0, 1.0, 0.2, 1.5
SETTINGS = WorkerSettings(
    worker_ttl=TTL,
    heartbeat_interval=H,
    restore_interval=R,
    purge_interval=5.0,
    shutdown_timeout=5.0,
    event_wait=0.2,
)


@dataclass
class Workload:
    """A Kit over the test's namespace with the recording handler, and its workers."""

    kit: Kit
    history_dir: Path
    processes: list[TaskkitProcess] = field(default_factory=list)
    runtimes: list[WorkerRuntime] = field(default_factory=list)

    @property
    def multi_process(self) -> bool:
        return self.kit.backend.capabilities.multi_process

    def enqueue(self, count: int, start: int = 0, **data: Any) -> list[str]:
        datas = ({"seq": i, **data} for i in range(start, start + count))
        results = self.kit.initiate_tasks(*task_args("work", datas, group="r"))
        return [r.task_id for r in results]

    def start(
        self, processes: int, threads: int, env: dict[str, str] | None = None, **kwargs: Any
    ) -> list[TaskkitProcess]:
        """Worker processes where the backend allows them, else in-process runtimes.

        ``env`` is added to the environment of the started processes only.
        """
        kwargs.setdefault("polling_interval", P)
        if not self.multi_process:
            self.runtimes += [
                self.kit.start_threads({"r": threads}, **kwargs) for _ in range(processes)
            ]
            return []
        saved = dict(os.environ)
        os.environ.update(env or {})
        try:
            started = self.kit.start_processes(processes, {"r": threads}, **kwargs)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.processes += started
        return started

    def keep_running(
        self, processes: int, threads: int, task_ids: list[str], timeout: float
    ) -> int:
        """Like the supervisor: replace dead worker processes until the tasks are done.

        Returns how many processes died.
        """
        deaths = 0
        alive = self.start(processes, threads)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.all_done(task_ids):
            for index, process in enumerate(alive):
                if not process.is_alive():
                    deaths += 1
                    alive[index] = self.start(1, threads)[0]
            time.sleep(0.2)
        return deaths

    def all_done(self, task_ids: list[str]) -> bool:
        done = set(self.kit.backend.get_done_task_ids(None, None, len(task_ids) * 2))
        return all(task_id in done for task_id in task_ids)

    def drain(self, task_ids: list[str], timeout: float = 60.0) -> None:
        """Wait until every task is finished (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        pending = list(task_ids)
        while pending and time.monotonic() < deadline:
            found = self.kit.backend.lookup_tasks(*pending)
            done = set(self.kit.backend.get_done_task_ids(None, None, len(task_ids) * 2))
            pending = [t for t in pending if t not in done and found.get(t) is not None]
            if pending:
                time.sleep(0.2)

    def check(self, task_ids: list[str]) -> Report:
        return check(self.kit.backend, task_ids, self.history_dir)

    def held_by(self, process: TaskkitProcess) -> list[str]:
        """Ids of the tasks staged to a worker process."""
        marker = f":{process.pid}:"
        return [i.task_id for i in self.kit.backend.get_stage_info(1000) if marker in i.worker_id]

    def stop(self) -> None:
        for runtime in self.runtimes:
            runtime.stop(timeout=10)
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join(5)


@pytest.fixture
def workload(
    request: pytest.FixtureRequest,
    taskkit_open: OpenConnection,
    taskkit_namespace: str,
    tmp_path: Path,
) -> Iterator[Workload]:
    """The test's workload; ``@pytest.mark.worker_settings(...)`` changes SETTINGS for it."""
    connection = taskkit_open()
    history_dir = tmp_path / "history"
    marker = request.node.get_closest_marker("worker_settings")
    settings = replace(SETTINGS, **marker.kwargs) if marker else SETTINGS
    kit = Kit(
        connection.backend,
        connection.bridge,
        ReliabilityHandler(history_dir),
        settings=settings,
        backend_options={"namespace": taskkit_namespace},
    )
    load = Workload(kit, history_dir)
    yield load
    load.stop()


def need_processes(workload: Workload) -> None:
    if not workload.multi_process:
        pytest.skip("needs worker processes (capability multi_process)")


def stop_outside_writes(workload: Workload, pid: int) -> None:
    """SIGSTOP ``pid`` at a moment it holds no write lock on a SQLite database.

    A SQLite writer stopped inside its transaction keeps the whole file
    locked, so no other worker could take its tasks over: the test would
    measure SQLite's single writer instead of taskkit's fencing. Until the
    file is free, the process is let go for 50 ms and stopped again.
    """
    for _ in range(100):
        os.kill(pid, signal.SIGSTOP)
        if not _sqlite_write_locked(workload.kit.backend.url):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"process {pid} held the database's write lock at 100 stops")


def _sqlite_write_locked(url: str) -> bool:
    if not url.startswith("sqlite"):
        return False
    database = make_url(url).database
    assert database, url
    connection = sqlite3.connect(database, timeout=0.2)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()
    return False


__all__ = [
    "SLACK",
    "TTL",
    "H",
    "P",
    "R",
    "Workload",
    "need_processes",
    "stop_outside_writes",
    "wait_until",
]
