"""`taskkit demo` runs the shop app, and the next steps it prints work as typed."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from cli.support import cli_env, taskkit


def test_the_printed_next_steps_run_as_typed(tmp_path: Path) -> None:
    command = f"{shlex.quote(sys.executable)} -m taskkit_core"
    env = cli_env(TASKKIT_COMMAND=command)  # what ./dev demo sets to "./dev taskkit"
    demo = taskkit("demo", "--tasks", "10", env=env, cwd=tmp_path, timeout=120)
    assert demo.returncode == 0, demo.stderr
    steps = [line.strip() for line in demo.stdout.split("Next,", 1)[1].splitlines()[1:]]
    export, start_worker, enqueue, status = steps
    assert start_worker == f"{command} worker taskkit_core.demo.app:app"
    script = "\n".join([export, f"{start_worker} &", enqueue, status, "kill -TERM $!", "wait $!"])
    done = subprocess.run(
        ["sh", "-c", script],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"to": "ann@example.com"' in done.stdout
    assert "Workers" in done.stdout, "taskkit status printed its tables"
