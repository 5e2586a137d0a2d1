"""Timeouts: an attempt past its timeout ends at once, by the retry policy, with TaskTimeout."""

from __future__ import annotations

import logging
import time

import pytest

from ...errors import Failed
from ...kit import Kit
from ..support import RecordingHandler, Start, wait_until


class TimeoutContract:
    """Task.timeout through worker threads: cooperative stops, hooks, stuck threads replaced."""

    def test_a_task_within_its_timeout_succeeds(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "sleep", 0.1, timeout=5)
        start_threads()
        assert result.get(timeout=10) == 0.1

    def test_a_task_past_its_timeout_fails_with_task_timeout(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "cooperative", 30, timeout=0.5)
        start_threads()
        with pytest.raises(Failed) as info:
            result.get(timeout=10)
        assert "TaskTimeout" in info.value.message
        assert "exceeded its timeout of 0.5 s" in info.value.message
        wait_until(lambda: result.task_id in handler.stopped)

    def test_a_timed_out_task_follows_the_retry_policy(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "slow_once", 30, timeout=0.5)
        start_threads()
        assert result.get(timeout=15) == "fast"
        assert [e.attempt for e in handler.ran(result.task_id)] == [1, 2]

    def test_the_cancel_hook_is_called_at_the_timeout(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "hooked", 30, timeout=0.3)
        start_threads()
        with pytest.raises(Failed, match="TaskTimeout"):
            result.get(timeout=10)
        wait_until(lambda: handler.hook_calls == [result.task_id])

    def test_a_stuck_thread_is_replaced_and_its_late_outcome_ignored(
        self,
        kit: Kit,
        handler: RecordingHandler,
        start_threads: Start,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.WARNING, logger="taskkit.worker")
        start_threads({"g": 1})
        stuck = kit.initiate_task("g", "stubborn", 4, timeout=0.3)
        wait_until(lambda: handler.ran(stuck.task_id))
        started = time.monotonic()
        with pytest.raises(Failed, match="TaskTimeout"):
            stuck.get(timeout=10)
        following = kit.initiate_task("g", "echo", "next")
        assert following.get(timeout=3) == "next"
        assert time.monotonic() - started < 3.5, "the next task ran beside the stuck one"
        wait_until(lambda: "Its thread's stack" in caplog.text, timeout=5)
        assert "_sleep" in caplog.text
        time.sleep(max(0.0, 4.5 - (time.monotonic() - started)))
        with pytest.raises(Failed, match="TaskTimeout"):
            stuck.get(timeout=1)
