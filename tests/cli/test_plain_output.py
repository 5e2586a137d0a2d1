"""The command without rich, and its output into pipes and files: plain lines, never wrapped."""

from __future__ import annotations

import json
import subprocess
import sys

from .support import cli_env, taskkit

WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None  # as if rich were not installed\n"
    "from taskkit_core.cli import main; main(sys.argv[1:])"
)


def taskkit_without_rich(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_RICH, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=cli_env(COLUMNS="40"),
        check=False,
    )


def test_every_command_works_without_rich() -> None:
    demo = taskkit_without_rich("demo", "--tasks", "5", "--url", "memory://")
    assert demo.returncode == 0, demo.stderr
    assert "5 tasks in" in demo.stdout
    assert "running: 5/5 tasks" in demo.stderr  # progress as plain lines
    status = taskkit_without_rich("status", "--url", "memory://")
    assert status.returncode == 0, status.stderr
    assert "no live workers" in status.stdout
    listed = taskkit_without_rich("backends")
    assert listed.returncode == 0, listed.stderr
    assert "memory://" in listed.stdout
    for done in (demo, status, listed):
        assert "│" not in done.stdout and "\x1b[" not in done.stdout


def test_backends_in_a_pipe_keeps_each_scheme_on_one_line() -> None:
    listed = json.loads(taskkit("backends", "--json").stdout)
    narrow = taskkit("backends", env=cli_env(COLUMNS="40"))
    lines = narrow.stdout.splitlines()
    for backend in listed["backends"]:
        row = next(line for line in lines if line.startswith(f"{backend['scheme']}:// "))
        assert backend["description"] in row
        assert ", ".join(backend["capabilities"]) in row
