"""Job-control values and the runtime's limits: task fields checked once, bounded replacements."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from taskkit_core.errors import InvalidTaskError
from taskkit_core.records import check_list_limit, check_purgeable
from taskkit_core.testing.support import FAST_SETTINGS, RecordingHandler, wait_until

from taskkit_core import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    Cancelled,
    Claim,
    Failed,
    Kit,
    Outcome,
    Task,
    TaskState,
    Unique,
    current_attempt,
)


def test_job_fields_default_to_nothing_special() -> None:
    task = Task.init("g", "n", b"")
    assert (task.priority, task.unique, task.timeout, dict(task.headers)) == (0, None, None, {})


def test_job_fields_are_kept_and_shown_without_header_values() -> None:
    task = Task.init(
        "g", "n", b"", priority=MAX_PRIORITY, unique=Unique("k", 5, "active"), timeout=2,
        headers={"token": "secret-value"},
    )  # fmt: skip
    assert (task.priority, task.unique, task.timeout) == (100, Unique("k", 5.0, "active"), 2.0)
    assert "secret-value" not in repr(task)
    assert Task(**{**task.to_dict(), "unique": task.unique}) == task


def test_headers_are_a_read_only_copy() -> None:
    given = {"a": "1"}
    task = Task.init("g", "n", b"", headers=given)
    given["a"] = "changed"
    assert task.headers["a"] == "1"
    with pytest.raises(TypeError):
        task.headers["a"] = "2"  # type: ignore[index]
    assert replace(task, due=1.0).headers == {"a": "1"}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"priority": MAX_PRIORITY + 1}, "between -100 and 100"),
        ({"priority": MIN_PRIORITY - 1}, "between -100 and 100"),
        ({"priority": False}, "must be an int"),
        ({"timeout": 0}, "timeout must be a positive"),
        ({"timeout": float("nan")}, "timeout must be a positive"),
        ({"headers": {"k": 1}}, "must map a str to a str"),
        ({"headers": {"k" * 129: ""}}, "1 to 128 characters"),
        ({"headers": {str(i): "" for i in range(65)}}, "the limit is 64"),
        ({"headers": {"k": "é" * 4096}}, "the limit is 8192 bytes"),
        ({"headers": {"k": "\udcff"}}, "valid Unicode"),
        ({"headers": ["k"]}, "must be a mapping"),
        ({"unique": "k"}, "must be a Unique"),
    ],
)
def test_bad_job_fields_are_one_clear_line(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidTaskError, match=words) as info:
        Task.init("g", "n", b"", **fields)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("",), "1 to 200 characters"),
        (("k" * 201,), "1 to 200 characters"),
        (("a\x00b",), "NUL"),
        (("k", 0), "period must be a positive"),
        (("k", None, "all"), "'queued' or 'active'"),
    ],
)
def test_bad_unique_keys_are_refused(args: tuple[Any, ...], words: str) -> None:
    with pytest.raises(InvalidTaskError, match=words):
        Unique(*args)


def test_list_limits_and_purge_states_are_checked() -> None:
    assert check_list_limit(1000) == 1000
    for bad in (0, 1001, True, 5.0):
        with pytest.raises(InvalidTaskError, match="limit"):
            check_list_limit(bad)
    assert check_purgeable(["failed"]) == {TaskState.FAILED}
    for states in (["queued"], ["failed", "staged"], [], ["done"]):
        with pytest.raises(InvalidTaskError, match="purge_tasks"):
            check_purgeable(states)


@pytest.fixture
def kit() -> Iterator[Kit]:
    handler = RecordingHandler()
    kit = Kit.from_url(
        "memory://", handler, settings=FAST_SETTINGS, namespace=f"jc_{secrets.token_hex(4)}"
    )
    handler.kit = kit
    yield kit
    kit.close()


def test_replacements_stop_at_the_groups_thread_count(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="taskkit.worker")
    runtime = kit.start_threads({"g": 1}, polling_interval=0.05)
    try:
        stuck = [kit.initiate_task("g", "stubborn", 3, timeout=0.2) for _ in range(2)]
        for result in stuck:
            with pytest.raises(Failed, match="TaskTimeout"):
                result.get(timeout=10)
        wait_until(lambda: "no replacement" in caplog.text, timeout=5)
        pool = runtime.pools["g"]
        assert sum(t.is_alive() for t in pool._workers) == 2, "one thread and one replacement"
        late = kit.initiate_task("g", "echo", "after")
        assert late.get(timeout=10) == "after", "a stuck thread returns and takes work again"
    finally:
        runtime.stop(timeout=10)


def test_a_cancel_request_reaches_a_running_attempt_through_the_heartbeat(kit: Kit) -> None:
    kit.settings = replace(kit.settings, worker_ttl=60, heartbeat_interval=20)
    runtime = kit.start_threads({"g": 1}, polling_interval=0.05)
    try:
        result = kit.initiate_task("g", "cooperative", 20)
        wait_until(lambda: kit.read_task(result.task_id).state is TaskState.STAGED)
        kit.cancel(result.task_id)
        time.sleep(0.5)
        assert kit.read_task(result.task_id).state is TaskState.STAGED, "not before a heartbeat"
        runtime.heartbeat()  # the next one would come 20 s later
        with pytest.raises(Cancelled, match="cancelled while running"):
            result.get(timeout=5)
    finally:
        runtime.stop(timeout=10)
    assert current_attempt() is None, "no attempt outside a worker's run"


def test_a_late_outcome_after_a_timeout_is_not_settled(kit: Kit) -> None:
    runtime = kit.start_threads({"g": 1}, polling_interval=0.05)
    try:
        result = kit.initiate_task("g", "stubborn", 1, timeout=0.2)
        with pytest.raises(Failed, match="TaskTimeout"):
            result.get(timeout=10)
        time.sleep(1.2)  # the handler returned meanwhile: its success is dropped
        info = kit.read_task(result.task_id)
        assert (info.state, info.attempt) == (TaskState.FAILED, 1)
        late = Claim(info.task, info.worker_id or "", info.attempt, info.began or 0.0)
        assert kit.backend.settle(Outcome.succeeded(late, b"1")) == [False]
    finally:
        runtime.stop(timeout=10)
