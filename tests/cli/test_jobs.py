"""taskkit show, tasks, cancel, retry, purge and enqueue's job options, as a user runs them.

The app ``jobapp:kit`` seeds memory://jobs with one task in each state each
time a ``taskkit`` process imports it, so every command starts from the
same tasks.
"""

from __future__ import annotations

import json
import re

import pytest

from .jobapp import CANCELLED, FAILED_1, FAILED_2, FAILED_OTHER, QUEUED, STAGED, SUCCEEDED
from .support import taskkit

APP = ("--app", "jobapp:kit")


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_show_tells_a_failed_task_with_its_traceback() -> None:
    result = taskkit("show", FAILED_1, *APP)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^state: +failed$", result.stdout, re.M)
    assert re.search(r"^attempt: +1$", result.stdout, re.M)
    assert re.search(r"^worker: +w1$", result.stdout, re.M)
    assert "\n  Traceback (most recent call last):" in result.stdout
    assert result.stdout.rstrip().endswith("ValueError: bad input")


def test_show_json_has_the_job_control_fields() -> None:
    result = taskkit("show", QUEUED, "--json", *APP)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["id"], shown["state"], shown["priority"]) == (QUEUED, "queued", 5)
    assert shown["headers"] == {"tenant": "acme"}
    assert shown["unique"] == {"key": "nightly", "period": None, "states": "queued"}
    assert (shown["attempt"], shown["began"], shown["error"]) == (0, None, None)


def test_show_of_an_unknown_id_is_one_line_and_exit_1() -> None:
    result = taskkit("show", "nosuchid", *APP)
    assert result.returncode == 1
    assert one_error_line(result.stderr) == "error: no task with id 'nosuchid'"
    assert result.stdout == ""


def test_tasks_lists_failed_tasks_newest_first() -> None:
    result = taskkit("tasks", *APP)
    assert result.returncode == 0, result.stderr
    ids = re.findall(r"^([0-9a-f]{32}) ", result.stdout, re.M)
    assert ids == [FAILED_OTHER, FAILED_2, FAILED_1]
    assert result.stdout.count("ValueError: bad input") == 3


def test_tasks_by_group_state_and_page() -> None:
    by_group = taskkit("tasks", "--group", "default", "--json", *APP)
    assert [t["id"] for t in json.loads(by_group.stdout)] == [FAILED_2, FAILED_1]
    running = taskkit("tasks", "--state", "running", "--json", *APP)
    assert [(t["id"], t["worker_id"]) for t in json.loads(running.stdout)] == [(STAGED, "w1")]
    done = taskkit("tasks", "--state", "done", "--json", *APP)
    assert [t["id"] for t in json.loads(done.stdout)] == [SUCCEEDED]
    first = taskkit("tasks", "--limit", "1", "--json", *APP)
    assert [t["id"] for t in json.loads(first.stdout)] == [FAILED_OTHER]
    assert f"--before {FAILED_OTHER}" in first.stderr
    second = taskkit("tasks", "--limit", "1", "--before", FAILED_OTHER, "--json", *APP)
    assert [t["id"] for t in json.loads(second.stdout)] == [FAILED_2]


@pytest.mark.parametrize(
    "args", [("--state", "finished"), ("--limit", "0"), ("--limit", "1001"), ("--group", "")]
)
def test_tasks_refuses_bad_options_with_exit_2(args: tuple[str, ...]) -> None:
    result = taskkit("tasks", *args, *APP)
    assert result.returncode == 2
    one_error_line(result.stderr)


def test_cancel_says_what_happened_to_each_task() -> None:
    result = taskkit("cancel", QUEUED, STAGED, CANCELLED, SUCCEEDED, *APP)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{QUEUED}: cancelled (it will not start)",
        f"{STAGED}: cancel requested (its worker stops it within one heartbeat)",
        f"{CANCELLED}: already finished; nothing changed",
        f"{SUCCEEDED}: already finished; nothing changed",
    ]


def test_cancel_of_an_unknown_id_exits_1_after_the_others() -> None:
    result = taskkit("cancel", QUEUED, "nosuchid", *APP)
    assert result.returncode == 1
    assert result.stdout == f"{QUEUED}: cancelled (it will not start)\n"
    assert one_error_line(result.stderr) == "error: no task with id 'nosuchid'"


def test_retry_queues_failed_and_cancelled_tasks() -> None:
    result = taskkit("retry", FAILED_1, CANCELLED, *APP)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{FAILED_1}: queued again", f"{CANCELLED}: queued again"]


def test_retry_of_a_succeeded_task_is_refused() -> None:
    result = taskkit("retry", SUCCEEDED, *APP)
    assert result.returncode == 1
    assert SUCCEEDED in one_error_line(result.stderr)
    assert "only failed or cancelled" in result.stderr


def test_retry_every_failed_task_of_a_group() -> None:
    result = taskkit("retry", "--failed", "--group", "default", *APP)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "queued 2 failed task(s) of group default again\n"


@pytest.mark.parametrize(
    "args", [(), (FAILED_1, "--failed", "--group", "default"), ("--failed",), ("--group", "x")]
)
def test_retry_needs_ids_or_failed_with_a_group(args: tuple[str, ...]) -> None:
    result = taskkit("retry", *args, *APP)
    assert result.returncode == 2
    one_error_line(result.stderr)


def test_purge_deletes_the_finished_tasks_of_a_group() -> None:
    result = taskkit("purge", "--group", "default", "--finished", *APP)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "purged 4 finished task(s) of group default\n"


def test_purge_needs_finished_said_out_loud() -> None:
    result = taskkit("purge", "--group", "default", *APP)
    assert result.returncode == 2
    assert "--finished" in one_error_line(result.stderr)


def test_enqueue_with_job_options_puts_them_on_the_task() -> None:
    result = taskkit(
        "enqueue", "jobapp:kit", "default", "echo", "--priority", "7", "--task-timeout", "30",
        "--header", "trace=abc", "--header", "tenant=x=y", "--unique-key", "k1",
        "--unique-for", "60", "--unique-states", "active",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{32}\n", result.stdout)


def test_enqueue_of_a_held_unique_key_prints_the_holder() -> None:
    result = taskkit("enqueue", "jobapp:kit", "default", "echo", "--unique-key", "nightly")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{QUEUED}\n"
    assert f"unique key 'nightly' is held: {QUEUED}" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--priority", "101"), "priority"),
        (("--priority", "x"), "priority"),
        (("--task-timeout", "0"), "timeout"),
        (("--task-timeout", "-5"), "timeout"),
        (("--header", "novalue"), "KEY=VALUE"),
        (("--header", "=v"), "KEY=VALUE"),
        (("--unique-for", "60"), "--unique-key"),
        (("--unique-key", "k" * 201), "unique key"),
        (("--unique-key", "k", "--unique-for", "0"), "period"),
        (("--unique-states", "running", "--unique-key", "k"), "unique-states"),
    ],
)
def test_enqueue_refuses_bad_job_options_with_exit_2(args: tuple[str, ...], words: str) -> None:
    result = taskkit("enqueue", "jobapp:kit", "default", "echo", *args)
    assert result.returncode == 2, result.stdout
    assert words in one_error_line(result.stderr)
    assert result.stdout == ""


def test_status_counts_the_cancelled_tasks_of_the_last_hour() -> None:
    result = taskkit("status", "--json", *APP)
    assert result.returncode == 0, result.stderr
    groups = {g["group"]: g for g in json.loads(result.stdout)["groups"]}
    assert groups["default"]["cancelled_last_hour"] == 1
    table = taskkit("status", *APP).stdout
    header = next(line for line in table.splitlines() if "cancelled 1h" in line)
    assert header.index("failed 1h") < header.index("cancelled 1h") < header.index("oldest wait")
