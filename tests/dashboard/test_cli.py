"""``taskkit dashboard`` as a user runs it: in a subprocess, stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from taskkit_core.opening import migrate

TEST_APP = Path(__file__).with_name("scheduled_app.py")


def env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: no TASKKIT_* from outside, plus ``extra``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TASKKIT_")}
    return {**clean, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(TEST_APP.parent), **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_actions_without_credentials_refuse_to_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "taskkit_core", "dashboard", "--allow-actions"],
        env=env(TASKKIT_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: actions need a sign-in: set TASKKIT_DASHBOARD_TOKEN or "
        "TASKKIT_DASHBOARD_PASSWORD in the environment (never on the command line)"
    ]


def test_it_serves_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskkit_core",
            "dashboard",
            "--port",
            str(port),
            "--app",
            "scheduled_app:kit",
        ],
        env=env(TASKKIT_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first == f"taskkit dashboard on http://127.0.0.1:{port}/ (read-only)\n"
        page = _get(f"http://127.0.0.1:{port}/schedules")
        assert "<td>nightly</td>" in page and "<td>cleanup</td>" in page
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _get(url: str) -> str:
    for _ in range(100):  # uvicorn prints nothing more when ready: retry until it answers
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 (a local URL)
                return str(reply.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")
