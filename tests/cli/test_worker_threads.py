"""`taskkit worker` on memory://: the worker threads run in the command's own process.

memory:// lives inside one process, so the test app puts its task in at
import (TASKKIT_TEST_SEED) and the worker runs it in-process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from typing import cast

import pytest
from taskkit_core.cli.worker_threads import ThreadsWorker
from taskkit_core.worker.runtime import WorkerRuntime

from .support import APP, Markers, cli_env, worker


def _env(markers: Markers, seconds: float, key: str = "t1") -> dict[str, str]:
    return cli_env(
        TASKKIT_URL="memory://",
        TASKKIT_TEST_MARKERS=str(markers.directory),
        TASKKIT_TEST_SEED=json.dumps({"key": key, "seconds": seconds, "gate": True}),
    )


ARGS = [APP, "--polling-interval", "0.2", "--shutdown-timeout", "20"]


def test_sigterm_lets_the_running_task_finish_and_exits_0(markers: Markers) -> None:
    with worker(ARGS, _env(markers, seconds=30)) as w:
        markers.wait_started("t1")
        w.send(signal.SIGTERM)
        w.wait_for_log("again to stop now")
        markers.open_gate("t1")  # the task finishes while the worker drains
        assert w.wait(timeout=30) == 0, w.log
    assert markers.finished("t1"), w.log
    assert "started: threads {'default': 2, 'other': 1}" in w.log  # THREADS of the app
    assert "stopped" in w.log


def test_ctrl_c_lets_the_running_task_finish_and_exits_0(markers: Markers) -> None:
    with worker(ARGS, _env(markers, seconds=30)) as w:
        markers.wait_started("t1")
        w.ctrl_c()
        w.wait_for_log("again to stop now")
        markers.open_gate("t1")
        assert w.wait(timeout=30) == 0, w.log
    assert markers.finished("t1"), w.log


def test_schedule_entries_are_run(markers: Markers) -> None:
    env = cli_env(TASKKIT_URL="memory://", TASKKIT_TEST_MARKERS=str(markers.directory))
    args = [APP, "--schedule", "taskapp:EVERY_5_SECONDS", "--threads", "default=1"]
    with worker(args, env) as w:
        markers.wait_started("scheduled", timeout=20)
        w.send(signal.SIGTERM)
        assert w.wait(timeout=30) == 0, w.log
    assert "schedules: default" in w.log


class _StartingRuntime:
    """A runtime with one running task, as ThreadsWorker sees it."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.released: bool | None = None

    def running_count(self) -> int:
        return 1

    def request_stop(self, *, release_running: bool = False) -> None:
        self.released = release_running
        self.stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.stopped.wait(timeout)

    def abort(self) -> None:
        self.stopped.set()


def test_a_stop_while_the_runtime_starts_counts_its_running_tasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # CI once sent Ctrl-C while the runtime's start was returning: its task
    # ran, yet the message said "finishing 0 running task(s)".
    runtime = _StartingRuntime()

    def start() -> WorkerRuntime:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # the stop is heard before start returns
        return cast(WorkerRuntime, runtime)

    with caplog.at_level(logging.WARNING, logger="taskkit.cli"):
        stopped = ThreadsWorker(shutdown_timeout=20).run(start)
    said = [r.getMessage() for r in caplog.records if "running task(s)" in r.getMessage()]
    assert said == [said[0]] and "finishing 1 running task(s), up to 20 s" in said[0], said
    assert runtime.released is True
    assert stopped.signum == signal.SIGTERM and not stopped.forced
