"""The conformance kit's Kit-level and worker-process tests, with every task a coroutine.

The same scenarios as ``tests/test_conformance.py`` (``TestKit``,
``TestProcesses``: results, retries, discards, due times, pause and
shutdown, stop with a running task, restores of dead workers' tasks, the
killed worker process), on every backend, with the kit's handler replaced by
one whose tasks run on the worker's event loop.
"""

from __future__ import annotations

import logging
import time

import pytest
from taskkit_core.testing import KitContract, ProcessContract, RecordingHandler
from taskkit_core.testing.support import Start

from app.async_handlers import AsyncRecordingHandler
from taskkit_core import Failed, Kit


class TestAsyncKit(KitContract):
    @pytest.fixture
    def handler(self) -> RecordingHandler:
        return AsyncRecordingHandler()

    def test_a_stuck_thread_is_replaced_and_its_late_outcome_ignored(
        self,
        kit: Kit,
        handler: RecordingHandler,
        start_threads: Start,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A coroutine past its timeout is cancelled: its thread is free at once, none is stuck."""
        caplog.set_level(logging.WARNING, logger="taskkit.worker")
        start_threads({"g": 1})
        stuck = kit.initiate_task("g", "stubborn", 4, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(Failed, match="TaskTimeout"):
            stuck.get(timeout=10)
        following = kit.initiate_task("g", "echo", "next")
        assert following.get(timeout=3) == "next"
        assert time.monotonic() - started < 2, "the next task waited for the stuck coroutine"
        time.sleep(1.5)  # past the watchdog's grace: no thread was left stuck
        assert "still running" not in caplog.text


class TestAsyncProcesses(ProcessContract):
    @pytest.fixture
    def handler(self) -> RecordingHandler:
        return AsyncRecordingHandler()
