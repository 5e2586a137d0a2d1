"""The commands that need no running worker: help, backends, migrate, enqueue, status, demo."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from taskkit_core.cli import cli
from taskkit_core.errors import UnknownBackendError
from taskkit_core.opening import lookup_backend

from .support import APP, cli_env, taskkit


def test_every_option_has_an_environment_variable_shown_in_help() -> None:
    commands = [cli, *cli.commands.values()]
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option) and param.name not in ("help", "version"):
                assert param.envvar and param.show_envvar, f"{command.name} {param.name}"
    result = taskkit("worker", "--help")
    for variable in ("TASKKIT_URL", "TASKKIT_NAMESPACE", "TASKKIT_THREADS", "TASKKIT_PROCESSES"):
        assert variable in result.stdout
    assert "`ps`" in result.stdout  # why URLs belong in the environment


def test_the_version() -> None:
    result = taskkit("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"taskkit, version \d+\.\d+\.\d+\S*\n", result.stdout)


def test_backends_lists_memory_with_its_distribution() -> None:
    result = taskkit("backends")
    assert result.returncode == 0, result.stderr
    assert "memory://" in result.stdout
    assert "taskkit-core" in result.stdout
    listed = json.loads(taskkit("backends", "--json").stdout)
    memory = next(b for b in listed["backends"] if b["scheme"] == "memory")
    assert memory["distribution"] == "taskkit-core"
    assert memory["capabilities"] == ["push_wakeups", "priorities", "unique_tasks"]
    assert listed["failures"] == []


def test_backends_names_a_broken_plugin_and_exits_1(tmp_path: Path) -> None:
    # A distribution whose entry point cannot be imported, found on PYTHONPATH.
    dist = tmp_path / "acme_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[taskkit]\nacme = acme_no_such_module\n")
    env = cli_env()
    env["PYTHONPATH"] += f":{tmp_path}"
    result = taskkit("backends", env=env)
    assert result.returncode == 1
    assert "acme-broken" in result.stdout
    assert "ModuleNotFoundError" in result.stdout
    assert "memory://" in result.stdout  # the others are still listed


def test_migrate_on_memory_says_there_is_nothing_to_do() -> None:
    for args in (["migrate", "--url", "memory://"], ["migrate", "--url", "memory://", "--sql"]):
        result = taskkit(*args)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "memory:// needs no migration: nothing to do\n"


def test_enqueue_prints_the_task_id_and_warns_on_a_private_backend() -> None:
    result = taskkit("enqueue", APP, "default", "echo", "--data", '{"a": 1}', "--url", "memory://")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{32}\n", result.stdout)
    assert result.stderr.startswith("warning: memory:// is private to this process")


def test_enqueue_takes_the_app_from_the_environment() -> None:
    env = cli_env(TASKKIT_APP=APP, TASKKIT_URL="memory://")
    result = taskkit("enqueue", "default", "echo", "--due", "+60", env=env)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{32}\n", result.stdout)


def test_status_on_an_empty_backend_shows_empty_tables() -> None:
    result = taskkit("status", "--url", "memory://")
    assert result.returncode == 0, result.stderr
    assert "no tasks queued, running or finished in the last hour" in result.stdout
    assert "no live workers" in result.stdout
    snapshot = json.loads(taskkit("status", "--url", "memory://", "--json").stdout)
    assert snapshot["groups"] == [] and snapshot["workers"] == []


def _sqlite_installed() -> bool:
    try:
        lookup_backend("sqlite:///x.db")
    except UnknownBackendError:
        return False
    return True


def summary_rows(table: str) -> dict[str, list[str]]:
    """Cells of the summary table by task kind: tasks done failed retried retries p50 p99."""
    rows = {}
    for line in table.splitlines():
        cells = re.split(r" {2,}", line.strip())  # plain columns: two spaces or more apart
        if len(cells) == 8 and cells[1].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def test_demo_runs_and_prints_its_summary(tmp_path: Path) -> None:
    result = taskkit("demo", "--tasks", "20", cwd=tmp_path, timeout=90)
    assert result.returncode == 0, result.stderr
    assert "Demo summary" in result.stdout
    rows = summary_rows(result.stdout)
    assert rows["all"][:3] == ["20", "19", "1"]  # tasks, done, failed: one corrupt feed
    assert rows["import_feed"][2] == "1"
    assert int(rows["send_email"][3]) >= 1 and int(rows["charge_card"][3]) >= 1  # retried
    assert "tasks/s" in result.stdout and "p99" in result.stdout
    assert "tasks/s" in result.stderr  # the progress bar
    assert (tmp_path / "taskkit-demo.db").exists() == _sqlite_installed()


@pytest.mark.parametrize("url", ["memory://"])
def test_demo_on_a_given_url(url: str, tmp_path: Path) -> None:
    result = taskkit("demo", "--tasks", "5", "--url", url, cwd=tmp_path, timeout=90)
    assert result.returncode == 0, result.stderr
    assert "5 tasks in" in result.stdout


def test_status_watch_refreshes_until_ctrl_c() -> None:
    command = [sys.executable, "-m", "taskkit_core", "status", "--watch", "--interval", "0.2"]
    process = subprocess.Popen(
        [*command, "--url", "memory://"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(PYTHONFAULTHANDLER="1"),
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # printed once the backend is open, however slow the start
    assert first.startswith("warning: memory://"), first
    assert process.stdout is not None
    shown = process.stdout.readline()  # the first view is out: past every import of the start
    assert shown.startswith("memory://"), shown
    time.sleep(1)  # five refreshes
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
        _out, err = process.communicate(timeout=30)
        pytest.fail(f"still running 30 s after Ctrl-C; its threads:\n{err[-6000:]}")
    assert process.returncode == 0, first + err
    assert "Groups" in out and "Workers" in out


WITHOUT_SIGINT = {
    "blocked": "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])",
    "ignored": "signal.signal(signal.SIGINT, signal.SIG_IGN)",
}
"""What a parent does before it starts the command (exec keeps both)."""


@pytest.mark.parametrize("how", sorted(WITHOUT_SIGINT))
def test_status_watch_ends_on_ctrl_c_when_started_without_it(how: str) -> None:
    """Started with SIGINT blocked or ignored (as a background job or a task's subprocess)."""
    watch = ["-m", "taskkit_core", "status", "--watch", "--interval", "0.2", "--url", "memory://"]
    launcher = (
        f"import os, signal, sys; {WITHOUT_SIGINT[how]}; "
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, *watch],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("memory://")  # watching
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
