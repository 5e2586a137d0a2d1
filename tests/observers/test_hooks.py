"""Observers see the life of a task, in order, with its timings; a raising one breaks nothing.

In-process workers on memory://: the hooks are the same in a worker
process (tests/cli/test_metrics.py and tests/plugins/test_observer_plugin.py
watch them there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from taskkit_core.observers import TaskEvent, WorkerEvent, register_observer, unregister_observer
from taskkit_core.observers.errors import ObserverErrors
from taskkit_core.observers.hub import HOOKS, hub
from taskkit_core.observers.setup import ENV
from taskkit_core.plugins import reset_plugins

from taskkit_core import Failed, Kit, hookimpl

from .traced_app import Handler


class Recorder:
    """Every task hook it sees, as (hook, task name, attempt) plus the events."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int]] = []
        self.events: dict[str, list[Any]] = {}
        self.lock = threading.Lock()

    def add(self, hook: str, event: Any) -> None:
        with self.lock:
            self.events.setdefault(hook, []).append(event)
            if isinstance(event, TaskEvent):
                self.seen.append((hook, event.task.name, event.attempt))

    @hookimpl
    def taskkit_task_enqueued(self, event: TaskEvent) -> None:
        self.add("enqueued", event)

    @hookimpl
    def taskkit_task_claimed(self, event: TaskEvent) -> None:
        self.add("claimed", event)

    @hookimpl
    def taskkit_task_started(self, event: TaskEvent) -> None:
        self.add("started", event)

    @hookimpl
    def taskkit_task_succeeded(self, event: TaskEvent) -> None:
        self.add("succeeded", event)

    @hookimpl
    def taskkit_task_failed(self, event: TaskEvent) -> None:
        self.add("failed", event)

    @hookimpl
    def taskkit_task_retried(self, event: TaskEvent) -> None:
        self.add("retried", event)

    @hookimpl
    def taskkit_worker_started(self, worker: WorkerEvent) -> None:
        self.add("worker started", worker)

    @hookimpl
    def taskkit_worker_stopped(self, worker: WorkerEvent) -> None:
        self.add("worker stopped", worker)


class Raising:
    """An observer whose every hook raises."""

    @hookimpl
    def taskkit_task_started(self, event: TaskEvent) -> None:
        raise RuntimeError("observer bug")

    @hookimpl
    def taskkit_task_succeeded(self, event: TaskEvent) -> None:
        raise RuntimeError("observer bug")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    observer = Recorder()
    register_observer(observer, name="test recorder")
    try:
        yield observer
    finally:
        unregister_observer(observer)


@pytest.fixture
def kit() -> Iterator[Kit]:
    made = Kit.from_url("memory://", Handler())
    try:
        yield made
    finally:
        made.close()


def test_an_observer_sees_the_life_of_each_task_in_order(kit: Kit, recorder: Recorder) -> None:
    ok = kit.initiate_task("g", "echo", 1)
    bad = kit.initiate_task("g", "fail", 2)
    flaky = kit.initiate_task("g", "flaky", 3)
    with kit.start_threads({"g": 1}, polling_interval=0.05):
        assert ok.get(timeout=10) == 1
        with pytest.raises(Failed):
            bad.get(timeout=10)
        assert flaky.get(timeout=10) == 3
    assert [s for s in recorder.seen if s[1] == "echo"] == [
        ("enqueued", "echo", 0),
        ("claimed", "echo", 1),
        ("started", "echo", 1),
        ("succeeded", "echo", 1),
    ]
    assert [s[0] for s in recorder.seen if s[1] == "fail"][-2:] == ["started", "failed"]
    assert [s[0] for s in recorder.seen if s[1] == "flaky" and s[0] != "claimed"] == [
        "enqueued",
        "started",
        "retried",
        "started",
        "succeeded",
    ]
    (failed,) = recorder.events["failed"]
    assert failed.error is not None and "ValueError: failing on purpose: 2" in failed.error
    assert failed.worker_id is not None and failed.run_time is not None


def test_events_carry_the_queue_wait_and_the_run_time(kit: Kit, recorder: Recorder) -> None:
    result = kit.initiate_task("g", "echo", 1)
    with kit.start_threads({"g": 1}, polling_interval=0.05):
        result.get(timeout=10)
    (started,) = recorder.events["started"]
    (succeeded,) = recorder.events["succeeded"]
    assert 0 <= started.queue_wait < 10
    assert 0 <= succeeded.run_time < 10
    assert succeeded.outcome is not None and succeeded.outcome.kind.value == "succeeded"


def test_worker_start_and_stop_are_seen_with_the_threads(kit: Kit, recorder: Recorder) -> None:
    kit.start_threads({"g": 2, "h": 1}).stop()
    (started,) = recorder.events["worker started"]
    (stopped,) = recorder.events["worker stopped"]
    assert started.threads == {"g": 2, "h": 1}
    assert started.worker_id == stopped.worker_id and started.pid > 0


def test_a_raising_observer_is_logged_once_and_the_worker_goes_on(
    kit: Kit, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    raising = Raising()
    register_observer(raising, name="raising")
    try:
        results = [kit.initiate_task("g", "echo", i) for i in range(5)]
        with kit.start_threads({"g": 2}, polling_interval=0.05):
            assert [r.get(timeout=10) for r in results] == list(range(5))
    finally:
        unregister_observer(raising)
    logged = [r for r in caplog.records if r.name == "taskkit.observers"]
    assert [r.getMessage().split(";")[0] for r in logged] == [
        "observer raising raised in taskkit_task_started",
        "observer raising raised in taskkit_task_succeeded",
    ], "the first error of each hook is logged, the next four are counted"
    assert len([s for s in recorder.seen if s[0] == "succeeded"]) == 5, "others still called"


def test_repeated_errors_are_logged_as_a_count_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = ObserverErrors(logging.getLogger("taskkit.test"), interval=0.0)
    for _ in range(3):
        errors.report("broken", "taskkit_task_started", RuntimeError("x"))
    quiet = ObserverErrors(logging.getLogger("taskkit.test"), interval=60.0)
    for _ in range(3):
        quiet.report("broken", "taskkit_task_started", RuntimeError("x"))
    lines = [r.getMessage() for r in caplog.records if r.name == "taskkit.test"]
    assert len(lines) == 3 + 1
    assert "raised in taskkit_task_started 1 more time(s)" in lines[1]


def test_without_observers_the_hub_is_off() -> None:
    assert not hub.active, "no observer is installed in the test environment"
    assert hub.observers() == []
    assert "taskkit_task_started" in HOOKS and "taskkit_register_backends" not in HOOKS


def test_observers_named_in_the_environment_are_loaded(
    monkeypatch: pytest.MonkeyPatch, kit: Kit
) -> None:
    monkeypatch.setenv(ENV, "observers.env_observer")
    reset_plugins()
    try:
        kit.start_threads({"g": 1}).stop()
        from . import env_observer

        assert env_observer.STARTED, "the worker start reached the observer"
    finally:
        monkeypatch.delenv(ENV)
        reset_plugins()
    kit.start_threads({"g": 1}).stop()
    assert not hub.active
