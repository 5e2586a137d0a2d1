"""`taskkit pause | resume | shutdown` reach a running worker through the backend."""

from __future__ import annotations

import time

from .conftest import Shared
from .support import APP, taskkit, worker

ARGS = [APP, "--polling-interval", "0.2", "--shutdown-timeout", "20"]


def send(shared: Shared, *args: str) -> str:
    """Run a command against the shared backend; it must succeed. Its stdout."""
    result = taskkit(*args, env=shared.env())
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_pause_stops_claiming_until_resume(sqlite: Shared) -> None:
    with worker([*ARGS, "--processes", "2"], sqlite.env()) as w:
        w.wait_ready(processes=2)  # a process started later would not see the event
        assert send(sqlite, "pause") == "sent pause to all groups\n"
        w.wait_for_log("control event pause", count=2)
        send(sqlite, "enqueue", APP, "default", "sleep", "--data", '{"key": "t", "seconds": 0}')
        time.sleep(2)  # ten polling intervals: a worker that was not paused takes it
        assert not sqlite.markers.started("t")
        assert send(sqlite, "resume", "default") == "sent resume to groups default\n"
        sqlite.markers.wait_started("t", timeout=20)


def test_shutdown_stops_the_worker_once_every_group_is_shut_down(sqlite: Shared) -> None:
    with worker([*ARGS, "--processes", "2"], sqlite.env()) as w:
        w.wait_ready(processes=2)
        assert send(sqlite, "shutdown", "default") == "sent shutdown to groups default\n"
        w.wait_for_log("control event shutdown", count=2)
        time.sleep(1.5)  # more than the supervisor's look at its processes (every 1 s)
        assert w.process.poll() is None, w.log  # the group "other" still runs
        send(sqlite, "shutdown", "other")
        assert w.wait(timeout=30) == 0, w.log
    assert "every worker process stopped on a shutdown event" in w.log


def test_shutdown_reaches_an_in_process_worker(sqlite: Shared) -> None:
    with worker([*ARGS, "--processes", "0"], sqlite.env()) as w:
        w.wait_ready()
        assert send(sqlite, "shutdown") == "sent shutdown to all groups\n"
        assert w.wait(timeout=30) == 0, w.log
