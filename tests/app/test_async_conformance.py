"""The conformance kit's Kit-level and worker-process tests, with every task a coroutine.

The same scenarios as ``tests/test_conformance.py`` (``TestKit``,
``TestProcesses``: results, retries, discards, due times, pause and
shutdown, stop with a running task, restores of dead workers' tasks, the
killed worker process), on every backend, with the kit's handler replaced by
one whose tasks run on the worker's event loop.
"""

from __future__ import annotations

import pytest
from taskkit_core.testing import KitContract, ProcessContract, RecordingHandler

from app.async_handlers import AsyncRecordingHandler


class TestAsyncKit(KitContract):
    @pytest.fixture
    def handler(self) -> RecordingHandler:
        return AsyncRecordingHandler()


class TestAsyncProcesses(ProcessContract):
    @pytest.fixture
    def handler(self) -> RecordingHandler:
        return AsyncRecordingHandler()
