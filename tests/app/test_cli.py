"""`taskkit migrate/worker/enqueue` with an App: its URL, tasks across modules, failure logs.

The app lives in a module written to a temporary directory (the commands
put the working directory on the import path, as ``python -m`` does); it
names its SQLite file itself, so no command is given a URL.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from cli.support import cli_env, taskkit, worker

APP_MODULE = """
from taskkit_core import App, Retry

app = App("sqlite:///{db}", include=["cliapp_more"], retry=Retry(max_attempts=2, base=0.1))


@app.task
def add(a: int, b: int) -> int:
    return a + b
"""

MORE_MODULE = """
from cliapp import app


@app.task(group="reports")
def explode(n: int) -> None:
    {{}}["b"]
"""


def write_app(directory: Path) -> None:
    (directory / "cliapp.py").write_text(APP_MODULE.format(db=directory / "cli.db"))
    (directory / "cliapp_more.py").write_text(MORE_MODULE.format())


def test_an_app_runs_with_its_own_url_and_logs_failures_with_tracebacks(tmp_path: Path) -> None:
    write_app(tmp_path)
    env = cli_env()
    migrated = taskkit("migrate", "--app", "cliapp:app", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "cli.db").exists()
    args = ["cliapp:app", "--processes", "1", "--polling-interval", "0.2"]
    with worker(args, env, cwd=tmp_path) as running:
        running.wait_ready()
        assert "threads per group {'default': 4, 'reports': 4}" in running.log
        added = taskkit(
            "enqueue",
            "cliapp:app",
            "default",
            "cliapp.add",
            "--data",
            "[2, 3]",
            "--wait",
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert (added.returncode, added.stdout.strip()) == (0, "5"), added.stderr
        failed = taskkit(
            "enqueue",
            "cliapp:app",
            "reports",
            "cliapp_more.explode",
            "--data",
            '{"n": 1}',
            "--wait",
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert failed.returncode == 1
        assert "failed: KeyError: 'b'" in failed.stderr
        running.wait_for_log("attempt 2 failed for good: KeyError: 'b'")
        running.send(signal.SIGTERM)
        assert running.wait(60) == 0
    log = running.log
    assert "WARNING taskkit.worker" in log and "attempt 1 failed, retry in" in log
    assert "Traceback (most recent call last):" in log
    assert 'cliapp_more.py", line 7, in explode' in log


def test_worker_logs_as_json(tmp_path: Path) -> None:
    write_app(tmp_path)
    env = cli_env()
    assert taskkit("migrate", "--app", "cliapp:app", env=env, cwd=tmp_path).returncode == 0
    args = ["cliapp:app", "--processes", "1", "--log-format", "json", "--polling-interval", "0.2"]
    with worker(args, env, cwd=tmp_path) as running:
        running.wait_ready()
        enqueued = taskkit(
            "enqueue",
            "cliapp:app",
            "reports",
            "cliapp_more.explode",
            "--data",
            "[1]",
            env=env,
            cwd=tmp_path,
        )
        task_id = enqueued.stdout.strip()
        running.wait_for_log("failed for good")
        running.send(signal.SIGTERM)
        assert running.wait(60) == 0
    records = [json.loads(line) for line in running.lines if line.strip()]
    failures = [r for r in records if r.get("task_id") == task_id]
    assert [r["level"] for r in failures] == ["WARNING", "ERROR"]
    last = failures[-1]
    assert (last["task"], last["attempt"], last["logger"]) == (
        "cliapp_more.explode",
        2,
        "taskkit.worker",
    )
    assert last["traceback"].startswith("Traceback") and "KeyError: 'b'" in last["traceback"]
