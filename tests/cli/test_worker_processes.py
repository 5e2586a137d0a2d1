"""`taskkit worker` with worker processes on backends that processes share.

The supervisor starts the processes and logs each start and stop; SIGTERM
or Ctrl-C lets the running task finish and exits 0; a second signal stops
at once and puts the running task back in the queue. `taskkit enqueue`
and `taskkit status` talk to the same backend from other processes.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taskkit_core.opening import connect

from taskkit_core import Backend, Task

from .conftest import Shared
from .support import APP, taskkit, worker

ARGS = [APP, "--processes", "2", "--polling-interval", "0.2", "--shutdown-timeout", "20"]


def enqueue(shared: Shared, name: str, data: Any, *extra: str) -> str:
    """Put a task in through the CLI; return its id."""
    result = taskkit(
        "enqueue", APP, "default", name, "--data", json.dumps(data), *extra, env=shared.env()
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def snapshot(shared: Shared) -> dict[str, Any]:
    """`taskkit status --json`, parsed."""
    result = taskkit("status", "--json", env=shared.env())
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@contextmanager
def backend_of(shared: Shared) -> Iterator[Backend]:
    """The test's own connection to the backend, to check what the commands did."""
    connection = connect(shared.url, namespace=shared.namespace)
    try:
        yield connection.backend
    finally:
        connection.close()


def stored_result(shared: Shared, task_id: str) -> Any:
    """The decoded result the worker stored for ``task_id``."""
    with backend_of(shared) as backend:
        return json.loads(backend.get_result(task_id)[1])


def test_worker_runs_tasks_shows_in_status_and_drains_on_sigterm(shared: Shared) -> None:
    with worker(ARGS, shared.env()) as w:
        w.wait_ready(processes=2)  # both leases are written before status is read
        running = enqueue(shared, "sleep", {"key": "t1", "seconds": 30, "gate": True})
        with backend_of(shared) as backend:  # and one that is not due yet
            backend.put_tasks(Task.init("default", "echo", b"1", due=time.time() + 3600))
        shared.markers.wait_started("t1")
        state = snapshot(shared)
        w.send(signal.SIGTERM)
        w.wait_for_log("stopping 2 worker process(es)")
        shared.markers.open_gate("t1")  # the task finishes while the worker drains
        assert w.wait(timeout=40) == 0, w.log
    default = next(g for g in state["groups"] if g["group"] == "default")
    assert (default["queued"], default["due_now"], default["staged"]) == (1, 0, 1)
    assert len(state["workers"]) == 2
    assert shared.markers.finished("t1")
    assert stored_result(shared, running)["key"] == "t1"
    assert w.log.count("started (pid") == 2 and w.log.count("stopped (code 0)") == 2, w.log


def test_ctrl_c_drains_and_exits_0(sqlite: Shared) -> None:
    with worker(ARGS, sqlite.env()) as w:
        w.wait_for_log("worker process 1 started")
        enqueue(sqlite, "sleep", {"key": "t1", "seconds": 30, "gate": True})
        sqlite.markers.wait_started("t1")
        w.ctrl_c()
        w.wait_for_log("stopping 2 worker process(es)")
        sqlite.markers.open_gate("t1")
        assert w.wait(timeout=40) == 0, w.log
    assert sqlite.markers.finished("t1")


def test_a_second_signal_stops_at_once_and_puts_the_task_back(sqlite: Shared) -> None:
    with worker(ARGS, sqlite.env()) as w:
        w.wait_for_log("worker process 1 started")
        enqueue(sqlite, "sleep", {"key": "t1", "seconds": 60})
        sqlite.markers.wait_started("t1")
        w.send(signal.SIGTERM)
        w.wait_for_log("stopping 2 worker process(es)")
        time.sleep(1.5)  # a second signal counts only a second after the first
        began = time.monotonic()
        w.send(signal.SIGTERM)
        assert w.wait(timeout=20) == 0, w.log
        assert time.monotonic() - began < 10, w.log
    assert not sqlite.markers.finished("t1")
    with backend_of(sqlite) as backend:  # back in the queue, for the next worker
        (stats,) = backend.group_stats(since=0)
    assert (stats.queued, stats.staged) == (1, 0)


def test_enqueue_wait_prints_the_result_or_the_failure(sqlite: Shared) -> None:
    with worker(ARGS, sqlite.env()):
        done = taskkit(
            "enqueue",
            APP,
            "default",
            "echo",
            "--data",
            '{"x": [1, "é"]}',
            "--wait",
            "--timeout",
            "30",
            env=sqlite.env(),
        )
        failed = taskkit(
            "enqueue",
            APP,
            "other",
            "fail",
            "--data",
            '"boom"',
            "--wait",
            "--timeout",
            "30",
            env=sqlite.env(),
        )
        late = taskkit(
            "enqueue",
            APP,
            "default",
            "sleep",
            "--data",
            '{"key": "slow", "seconds": 30, "gate": true}',
            "--wait",
            "--timeout",
            "0.5",
            env=sqlite.env(),
        )
        table = taskkit("status", env=sqlite.env()).stdout
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"x": [1, "é"]}
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.count("\n") == 1
    assert "failed: ValueError: failing on purpose: boom" in failed.stderr
    assert late.returncode == 1 and "did not finish within 0.5 s" in late.stderr
    # status: a row per group (default: echo and sleep; other: one failure) and the workers
    rows = [re.split(r" {2,}", line.strip()) for line in table.splitlines()]  # plain columns
    cells = {row[0]: row[1:] for row in rows if len(row) == 7}  # the Groups table
    assert cells["other"][4] == "1"  # failed in the last hour
    assert cells["default"][3] == "1" and cells["default"][2] == "1"  # done; sleep staged
    assert table.count(socket.gethostname()) >= 2  # two worker processes


def test_the_shop_example_runs_from_the_examples_directory(sqlite: Shared) -> None:
    examples = Path(__file__).parents[2] / "examples"
    env = sqlite.env()
    with worker(["shop:handler", "--polling-interval", "0.2"], env, cwd=examples) as w:
        report = taskkit(
            "enqueue",
            "shop:handler",
            "reports",
            "render_report",
            "--data",
            '{"report": "q3", "pages": 1, "n": 1}',
            "--wait",
            "--timeout",
            "60",
            env=env,
            cwd=examples,
        )
        w.send(signal.SIGTERM)
        assert w.wait(timeout=40) == 0, w.log
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["value"] == {"report": "q3", "pages": 1}
    assert "threads per group {'default': 8, 'reports': 2}; schedules: shop" in w.log
