"""Tasks and their limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from taskkit_core.errors import InvalidTaskError, PayloadTooLarge
from taskkit_core.task import new_task_id

from taskkit_core import MAX_NAME_LENGTH, MAX_PAYLOAD_BYTES, Task


def test_init_fills_in_the_defaults() -> None:
    before = time.time()
    task = Task.init("g", "n", b"data")
    assert (task.group, task.name, task.data, task.retry_count) == ("g", "n", b"data", 0)
    assert before <= task.created <= time.time()
    assert task.due == task.created
    assert task.scheduled is None
    assert task.ttl == 7 * 24 * 3600


def test_due_accepts_datetimes_and_numbers() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert Task.init("g", "n", b"", due=when).due == when.timestamp()
    assert Task.init("g", "n", b"", due=123.5).due == 123.5
    assert Task.init("g", "n", b"", due=when).due_dt(UTC) == when


def test_ids_are_unique_and_sort_by_creation_time() -> None:
    ids = []
    for _ in range(3):
        ids.append(new_task_id())
        time.sleep(0.002)
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert all(len(i) == 32 for i in ids)


def test_retry_clone_counts_and_delays() -> None:
    task = Task.init("g", "n", b"")
    clone = task.clone_for_retry(10)
    assert clone.retry_count == 1
    assert clone.due >= time.time() + 9
    assert clone.id == task.id


def test_repr_does_not_show_the_payload() -> None:
    task = Task.init("g", "n", b"top secret payload")
    assert "top secret" not in repr(task)
    assert "18 bytes" in repr(task)


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("", "must not be empty"),
        ("x" * (MAX_NAME_LENGTH + 1), "characters long"),
        ("a\x00b", "NUL"),
        ("\ud800", "not valid Unicode"),
        (b"bytes", "must be a str"),
    ],
)
def test_bad_names_are_refused(group: object, message: str) -> None:
    with pytest.raises(InvalidTaskError, match=message):
        Task.init(group, "n", b"")  # type: ignore[arg-type]


def test_names_at_the_limit_are_accepted() -> None:
    name = "\U0001f600" * MAX_NAME_LENGTH
    assert Task.init(name, name, b"").group == name


def test_payload_limit() -> None:
    assert len(Task.init("g", "n", bytes(MAX_PAYLOAD_BYTES)).data) == MAX_PAYLOAD_BYTES
    with pytest.raises(PayloadTooLarge, match="limit is 10485760 bytes"):
        Task.init("g", "n", bytes(MAX_PAYLOAD_BYTES + 1))
    with pytest.raises(InvalidTaskError, match="must be bytes, got str"):
        Task.init("g", "n", "text")  # type: ignore[arg-type]


@pytest.mark.parametrize("ttl", [0, -1, float("inf"), float("nan"), "10", True])
def test_bad_ttls_are_refused(ttl: object) -> None:
    with pytest.raises(InvalidTaskError, match="ttl"):
        Task.init("g", "n", b"", ttl=ttl)  # type: ignore[arg-type]


def test_bad_due_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        Task.init("g", "n", b"", due=float("nan"))
    with pytest.raises(TypeError):
        Task.init("g", "n", b"", due="tomorrow")  # type: ignore[arg-type]
    assert Task.init("g", "n", b"", due=datetime.now() + timedelta(hours=1)).due > time.time()
