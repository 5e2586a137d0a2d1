"""Running ``taskkit`` in subprocesses, as a user would, for the CLI tests."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
APP = "taskapp:handler"
SERVER_ENV = {
    "postgresql": "TASKKIT_TEST_POSTGRES_URL",
    "mysql": "TASKKIT_TEST_MYSQL_URL",
    "redis": "TASKKIT_TEST_REDIS_URL",
}


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a ``taskkit`` subprocess: no TASKKIT_* leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKKIT_")}
    env.update(PYTHONPATH=str(HERE), COLUMNS="200", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def taskkit(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m taskkit_core ARGS`` to the end and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "taskkit_core", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else cli_env(),
        cwd=cwd,
        check=False,
    )


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)
    return value


class Worker:
    """A running ``taskkit worker`` in its own session (so Ctrl-C can reach its group)."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path | None = None,
        wrapper: Sequence[str] = (),
    ) -> None:
        self.process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "taskkit_core", "worker", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_log(self, text: str, timeout: float = 30, count: int = 1) -> None:
        """Wait until ``text`` is in ``count`` lines of the log."""
        wait_until(
            lambda: self.log.count(text) >= count,
            timeout,
            f"{count} log line(s) with {text!r} in:\n{self.log}",
        )

    def wait_ready(self, processes: int = 1) -> None:
        """Wait until every worker process (or the in-process worker) takes tasks."""
        self.wait_for_log("started: threads", count=processes)

    def send(self, signum: int) -> None:
        """Send a signal to the worker command only (as `kill` or systemd would)."""
        self.process.send_signal(signum)

    def ctrl_c(self) -> None:
        """Send SIGINT to the whole process group, as a terminal's Ctrl-C does.

        Only while the worker runs: once it is reaped, its pid (and group id)
        may belong to another test's process (pid_max is 32768 here).
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        """Kill the worker and its children (cleanup after a failed test)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@contextmanager
def worker(
    args: list[str], env: dict[str, str], cwd: Path | None = None, wrapper: Sequence[str] = ()
) -> Iterator[Worker]:
    """A worker (run by ``wrapper``, if given) that is killed at the end of the block."""
    running = Worker(args, env, cwd, wrapper)
    try:
        yield running
    finally:
        running.kill()


@dataclass
class Markers:
    """The marker files the test app's ``sleep`` tasks write."""

    directory: Path

    def started(self, key: str) -> bool:
        return (self.directory / f"{key}.started").exists()

    def finished(self, key: str) -> bool:
        return (self.directory / f"{key}.finished").exists()

    def open_gate(self, key: str) -> None:
        """Let a ``sleep`` task with ``"gate": true`` finish."""
        (self.directory / f"{key}.open").touch()

    def wait_started(self, key: str, timeout: float = 20) -> None:
        wait_until(lambda: self.started(key), timeout, f"task {key} started")


def new_namespace() -> str:
    """A namespace of its own for a test on a shared server."""
    return f"cli_{secrets.token_hex(4)}"
