"""The garbage collector around opening a backend, in any process and in a worker process.

A backend opens with the collector paused (``opening._no_collection``);
afterwards the collector must be as it was, or each reference cycle of the
tasks that follow would stay in memory for the life of the process.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from taskkit_core import JsonHandler, Kit, StorageNotReady, Task, connect, migrate


class GcStateHandler(JsonHandler):
    """Answers each task with the collector's state in the worker process."""

    def handle(self, task: Task) -> Any:
        return {"enabled": gc.isenabled()}

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None


def test_a_worker_process_collects_garbage_once_it_has_opened_its_backend(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gc.sqlite3'}"
    migrate(url)
    kit = Kit.from_url(url, GcStateHandler())
    try:
        result = kit.initiate_task("g", "state", {})
        processes = kit.start_processes(1, {"g": 1})
        try:
            state = result.get(timeout=60)
        finally:
            for process in processes:
                process.terminate()
                process.join(30)
    finally:
        kit.close()
    assert state == {"enabled": True}


@pytest.mark.parametrize("enabled", [True, False])
def test_opening_a_backend_leaves_the_collector_as_it_found_it(
    tmp_path: Path, enabled: bool
) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        connect("memory://").close()
        assert gc.isenabled() is enabled
        with pytest.raises(StorageNotReady):  # a failed opening restores it too
            connect(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
