"""A database restart in the middle of a run: workers back off, reconnect, lose nothing.

Each test starts a private server (never the shared one), runs worker
threads over it, and restarts the server twice mid-run: once cleanly,
once as a crash. Afterwards every task has its result, nothing is left
queued or staged, no task ran more than twice, and no log line shows the
password.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness.availability import unavailable
from harness.servers import (
    PrivateMariaDB,
    PrivatePostgres,
    PrivateServer,
    can_run_private_servers,
)
from taskkit_core.kit import Kit
from taskkit_core.opening import migrate
from taskkit_core.settings import WorkerSettings
from taskkit_core.task import Task
from taskkit_core.testing import wait_until
from taskkit_core.testing.support import task_args

from .test_secrets import leaks

PASSWORD = "Pw/CAN#ARY@7f:%"
TASKS = 400
THREADS = 4
OUTAGE = 2.0
SETTINGS = WorkerSettings(
    worker_ttl=10.0, heartbeat_interval=1.0, restore_interval=1.0, event_wait=0.5
)


class CountingHandler:
    """Sleeps 10 ms per task and counts how often each task ran."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle(self, task: Task) -> Any:
        time.sleep(0.01)
        with self._lock:
            self.runs[task.id] += 1
        return int(task.data)

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return 0.1

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        return str(data).encode()

    def encode_result(self, task: Task, result: Any) -> bytes:
        return str(result).encode()

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        return int(encoded)

    def finished(self) -> int:
        with self._lock:
            return len(self.runs)


SERVERS: dict[str, Callable[[str], PrivateServer]] = {
    "postgresql": PrivatePostgres,
    "mysql": PrivateMariaDB,
}


@pytest.fixture(params=sorted(SERVERS))
def private_server(request: pytest.FixtureRequest) -> Iterator[PrivateServer]:
    reason = can_run_private_servers()
    if reason is not None:
        unavailable(f"cannot start a private server: {reason}")
    server = SERVERS[request.param](PASSWORD)
    try:
        yield server
    finally:
        server.destroy()


def _outage(server: PrivateServer, *, crash: bool) -> None:
    server.stop(crash=crash)
    time.sleep(OUTAGE)
    server.start()


def test_a_server_restart_mid_run_loses_nothing_and_leaves_nothing_stuck(
    private_server: PrivateServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    migrate(private_server.url)
    handler = CountingHandler()
    kit = Kit.from_url(private_server.url, handler, settings=SETTINGS)
    try:
        results = kit.initiate_tasks(*task_args("n", range(TASKS)))
        runtime = kit.start_threads({"g": THREADS}, polling_interval=0.2)
        wait_until(lambda: handler.finished() >= TASKS * 0.3, timeout=60)
        _outage(private_server, crash=False)
        wait_until(lambda: handler.finished() >= TASKS * 0.7, timeout=60)
        _outage(private_server, crash=True)
        assert [r.get(timeout=90) for r in results] == list(range(TASKS)), "a task was lost"
        assert kit.backend.get_stage_info(10) == [], "a task is stuck in the stage"
        (stats,) = kit.backend.group_stats(0)
        assert (stats.queued, stats.staged, stats.done) == (0, 0, TASKS)
        assert runtime.stop(timeout=10)
    finally:
        kit.close()
    duplicates = sum(count - 1 for count in handler.runs.values())
    assert max(handler.runs.values()) <= 2
    assert duplicates <= 2 * THREADS, "more re-runs than tasks in flight at the faults"
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert "backend error, backing off" in said, "the outage went unnoticed: nothing tested"
    assert leaks(said, PASSWORD) == []
