"""What the CLI knows of live workers: paused groups in `status`, warnings of pause and enqueue.

Workers write what they serve and what they paused into the roster
(``taskkit_core.worker.roster``); `status` shows it, and `pause` and
`enqueue --wait` warn about groups no live worker serves.
"""

from __future__ import annotations

import json
from typing import Any

from .conftest import Shared
from .support import APP, taskkit, wait_until, worker

ARGS = [APP, "--polling-interval", "0.2", "--shutdown-timeout", "20", "--processes", "1"]


def status(shared: Shared) -> dict[str, Any]:
    result = taskkit("status", "--json", env=shared.env())
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_status_shows_paused_groups_and_what_each_worker_serves(sqlite: Shared) -> None:
    with worker(ARGS, sqlite.env()) as w:
        w.wait_ready()
        wait_until(lambda: status(sqlite)["workers"][0]["threads"], 20, "the worker's card")
        paused = taskkit("pause", "other", env=sqlite.env())
        assert paused.returncode == 0 and paused.stderr == "", paused.stderr
        snapshot = wait_until(
            lambda: (s := status(sqlite))["paused_groups"] == ["other"] and s, 20, "paused"
        )
        (only,) = snapshot["workers"]
        assert only["threads"] == {"default": 2, "other": 1}
        assert only["paused"] == ["other"]
        groups = {g["group"]: g for g in snapshot["groups"]}
        assert (groups["other"]["paused"], groups["other"]["workers"]) == (True, 1)
        assert (groups["default"]["paused"], groups["default"]["workers"]) == (False, 1)
        table = taskkit("status", env=sqlite.env())
        (row,) = [line for line in table.stdout.splitlines() if line.startswith("other")]
        assert "paused" in row
        taskkit("resume", env=sqlite.env())
        wait_until(lambda: status(sqlite)["paused_groups"] == [], 20, "resumed")


def test_pause_of_a_group_no_worker_serves_warns(sqlite: Shared) -> None:
    with worker(ARGS, sqlite.env()) as w:
        w.wait_ready()
        wait_until(lambda: status(sqlite)["workers"][0]["threads"], 20, "the worker's card")
        typo = taskkit("pause", "defualt", env=sqlite.env())
        assert typo.returncode == 0, typo.stderr
        assert "no live worker serves group 'defualt'" in typo.stderr
        served = taskkit("pause", "default", env=sqlite.env())
        assert served.stderr == ""


def test_enqueue_wait_says_when_no_worker_serves_the_group(sqlite: Shared) -> None:
    result = taskkit(
        "enqueue", APP, "default", "echo", "--wait", "--timeout", "1", env=sqlite.env()
    )
    assert result.returncode == 1
    assert "no live worker serves group 'default'" in result.stderr


def test_cli_commands_print_no_server_warning(sqlite: Shared) -> None:
    for args in (["status"], ["pause", "default"], ["enqueue", APP, "default", "echo"]):
        result = taskkit(*args, env=sqlite.env())
        assert "WARNING" not in result.stderr, (args, result.stderr)
