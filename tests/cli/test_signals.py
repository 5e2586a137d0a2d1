"""Stop signals and exit codes of `taskkit worker`, in both of its modes.

The first Ctrl-C or SIGTERM says what the worker does and lets the running
task finish (exit 0); a second one, however soon, puts the task back in the
queue and exits at once with 130 (Ctrl-C) or 143 (SIGTERM). One keypress
that reaches the worker twice (from the terminal and again through a
wrapper that forwards it, as ``uv run`` can) counts once.

Modes: ``processes`` is the default `--processes 1` (a supervisor and one
worker process) on a SQLite file; ``threads`` runs the threads in the
command's process, on memory://.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from taskkit_core.opening import connect

from taskkit_core import Task

from .conftest import Shared
from .support import APP, HERE, Markers, Worker, cli_env, worker

SHUTDOWN = ["--polling-interval", "0.2", "--shutdown-timeout", "20"]
WRAPPER = [sys.executable, str(HERE / "forwarder.py")]
EXIT = {"ctrl_c": 130, "sigterm": 143}


def stop(w: Worker, how: str) -> None:
    """Ctrl-C as a terminal sends it (to the whole process group), or SIGTERM to the command."""
    if how == "ctrl_c":
        w.ctrl_c()
    else:
        w.send(signal.SIGTERM)


@contextmanager
def long_task(
    mode: str, sqlite: Shared, markers: Markers, gate: bool = False, wrapper: bool = False
) -> Iterator[Worker]:
    """A worker in ``mode`` running one long ``sleep`` task (key t1)."""
    data = {"key": "t1", "seconds": 60, "gate": gate}
    if mode == "threads":
        args, env = (
            [APP, *SHUTDOWN],
            cli_env(
                TASKKIT_URL="memory://",
                TASKKIT_TEST_MARKERS=str(markers.directory),
                TASKKIT_TEST_SEED=json.dumps(data),
            ),
        )
    else:
        args, env = [APP, "--processes", "1", *SHUTDOWN], sqlite.env()
        connection = connect(sqlite.url, namespace=sqlite.namespace)
        connection.backend.put_tasks(Task.init("default", "sleep", json.dumps(data).encode()))
        connection.close()
    with worker(args, env, wrapper=WRAPPER if wrapper else ()) as w:
        markers.wait_started("t1")
        yield w


def queued_and_staged(sqlite: Shared) -> tuple[int, int]:
    connection = connect(sqlite.url, namespace=sqlite.namespace)
    try:
        (stats,) = connection.backend.group_stats(since=0)
    finally:
        connection.close()
    return stats.queued, stats.staged


@pytest.mark.parametrize("how", ["ctrl_c", "sigterm"])
@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_a_second_signal_soon_after_the_first_stops_at_once(
    mode: str, how: str, sqlite: Shared, markers: Markers
) -> None:
    with long_task(mode, sqlite, markers) as w:
        stop(w, how)
        time.sleep(0.2)
        stop(w, how)
        began = time.monotonic()
        code = w.wait(timeout=20)
        took = time.monotonic() - began
    assert code == EXIT[how], w.log
    assert took < 2.0, w.log
    assert not markers.finished("t1")
    assert "stopping now; running tasks go back to the queue" in w.log
    if mode == "processes":  # back in the queue, for the next worker
        assert queued_and_staged(sqlite) == (1, 0)


@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_the_first_signal_says_what_the_worker_does_and_it_drains(
    mode: str, sqlite: Shared, markers: Markers
) -> None:
    with long_task(mode, sqlite, markers, gate=True) as w:
        w.ctrl_c()
        w.wait_for_log("press Ctrl-C again to stop now")
        w.wait_for_log("finishing 1 running task(s), up to 20 s")
        markers.open_gate("t1")
        assert w.wait(timeout=30) == 0, w.log
    assert markers.finished("t1")


@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_a_keypress_forwarded_by_a_wrapper_counts_once(
    mode: str, sqlite: Shared, markers: Markers
) -> None:
    with long_task(mode, sqlite, markers, wrapper=True) as w:
        w.ctrl_c()  # reaches the wrapper and the worker; the wrapper passes it on too
        w.wait_for_log("forwarder: forwarded SIGINT")
        w.wait_for_log("press Ctrl-C again to stop now")
        time.sleep(1.0)
        assert w.process.poll() is None, w.log
        assert "stopping now" not in w.log
        w.ctrl_c()  # a real second keypress, forwarded again, still counts
        assert w.wait(timeout=20) == 130, w.log
    assert w.log.count("forwarder: forwarded SIGINT") == 2
    assert "stopping now; running tasks go back to the queue" in w.log
    assert not markers.finished("t1")
