"""A Redis crash and restart in the middle of a run (private server, AOF always).

Worker threads keep running tasks through the restart: each thread that
meets the outage logs one line, backs off and reconnects; no task is lost
or left staged, and no line shows the server's password.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from taskkit_core.kit import InitiateTaskArgs, Kit
from taskkit_core.settings import WorkerSettings
from taskkit_core.testing import RecordingHandler, wait_until

OpenConnection = Callable[..., Any]

CANARY = "Pw-CANARY-zq7kx"  # no 5 hex digits in a row: a task id in the log is no leak
TASKS = 600
THREADS = 4
OUTAGE = 2.0
SETTINGS = WorkerSettings(
    worker_ttl=10.0, restore_interval=1.0, purge_interval=5.0, discard_interval=5.0, event_wait=0.2
)


@pytest.mark.slow
def test_worker_threads_survive_a_redis_restart(
    private_redis: Callable[..., Any],
    open_connection: OpenConnection,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = private_redis("--appendonly", "yes", "--appendfsync", "always", password=CANARY)
    connection = open_connection(url=server.url)
    handler = RecordingHandler()
    kit = Kit(
        connection.backend,
        connection.bridge,
        handler,
        settings=SETTINGS,
        backend_options={"namespace": namespace},
    )
    items: list[InitiateTaskArgs] = [
        {"group": "g", "name": "sleep", "data": 0.01} for _ in range(TASKS)
    ]
    results = kit.initiate_tasks(*items)
    runtime = kit.start_threads({"g": THREADS}, polling_interval=0.2)
    try:
        wait_until(lambda: len(handler.executions) >= TASKS * 0.3, timeout=30)
        server.kill()
        killed = time.monotonic()
        time.sleep(OUTAGE)
        server.start()
        restarted = time.time()
        assert [r.get(timeout=60) for r in results] == [0.01] * TASKS, "no task is lost"
        finished_in = time.monotonic() - killed
    finally:
        runtime.stop(timeout=10)

    runs = Counter(e.task_id for e in handler.executions)
    assert set(runs) == {r.task_id for r in results}
    assert sum(runs.values()) - TASKS <= 2 * THREADS, "repeats only of tasks staged at the restart"
    assert any(e.started > restarted for e in handler.executions), "work went on after"
    assert kit.backend.get_stage_info(10) == [], "nothing left staged"
    assert kit.backend.get_queued_tasks("g", 10) == []
    assert finished_in < 45

    outage_lines = [r for r in caplog.records if "backend error, backing off" in r.getMessage()]
    assert outage_lines, "the outage was noticed"
    per_thread = Counter(r.threadName for r in outage_lines)
    assert max(per_thread.values()) == 1, f"one line per thread and outage: {per_thread}"
    assert any("backend reachable again" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    for piece in (CANARY[i : i + 5] for i in range(len(CANARY) - 4)):
        assert piece not in caplog.text
