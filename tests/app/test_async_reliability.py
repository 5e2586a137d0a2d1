"""R4 (a SIGKILLed worker's tasks run again within the bound) and R9 (long tasks keep their
lease), with the workload's tasks as coroutines on the worker's event loop, on every backend.

The test functions are the reliability suite's own; only the handler differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability.conftest import SETTINGS, Workload
from reliability.test_concurrency import (
    test_r9_long_tasks_are_not_restored_while_their_worker_lives as test_r9_async,
)
from reliability.test_delivery import (
    test_r4_tasks_of_a_sigkilled_worker_run_again_within_the_bound as test_r4_async,
)
from taskkit_core.testing import OpenConnection

from app.async_reliability_handler import AsyncReliabilityHandler
from taskkit_core import Kit

__all__ = ["test_r4_async", "test_r9_async"]


@pytest.fixture
def workload(
    taskkit_open: OpenConnection, taskkit_namespace: str, tmp_path: Path
) -> Iterator[Workload]:
    """The reliability workload, its handler's work run as coroutines."""
    connection = taskkit_open()
    handler = AsyncReliabilityHandler(tmp_path / "history")
    options = {"namespace": taskkit_namespace}
    kit = Kit(
        connection.backend, connection.bridge, handler, settings=SETTINGS, backend_options=options
    )
    load = Workload(kit, handler.history_dir)
    yield load
    load.stop()
