"""Every error of the command is one line on stderr with the right exit code.

Exit code 2 is a usage or configuration error (nothing changed), 1 a
runtime failure. A password given in --url or TASKKIT_URL never shows up
in any output, with or without --debug.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from taskkit_core.errors import UnknownBackendError
from taskkit_core.opening import lookup_backend

from .support import APP, cli_env, taskkit

MEMORY = ["--url", "memory://"]


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a failed command (and nothing on stdout)."""
    lines = result.stderr.splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["status", "--url", "nosuch://x"], "no installed backend serves nosuch://"),
        (["status", "--url", "not a url"], "malformed backend URL"),
        (["status"], "no backend URL"),
        (["enqueue", "no_such_module:kit", "default", "echo", *MEMORY], "cannot import"),
        (["enqueue", "taskapp:missing", "default", "echo", *MEMORY], "has no attribute"),
        (["enqueue", "taskapp:THREADS", "default", "echo", *MEMORY], "not a Kit or TaskHandler"),
        (["enqueue", "not an app!", "default", "echo", *MEMORY], "module:attribute"),
        (["enqueue", APP, "default", "echo"], "a backend URL is needed"),
        (["enqueue", APP, "nosuchgroup", "echo", *MEMORY], "unknown group 'nosuchgroup'"),
        (["enqueue", APP, "default", "echo", "--data", "{oops", *MEMORY], "not valid JSON"),
        (["enqueue", APP, "default", "echo", "--due", "tomorrow", *MEMORY], "--due"),
        (["enqueue", APP, "default"], "expected APP GROUP NAME"),
        (["worker", APP, "--threads", "default", *MEMORY], "expected GROUP=N"),
        (["worker", "taskkit_core.demo.app:app", "--url", "nosuch://x"], "nosuch://"),
        (["pause", "g" * 401, *MEMORY], "the limit is 400"),
        (["pause", "nosuchgroup", "--app", APP, *MEMORY], "unknown group"),
        (["no-such-command"], "No such command"),
    ],
)
def test_usage_and_configuration_errors_exit_2(args: list[str], expected: str) -> None:
    line = assert_one_error_line(taskkit(*args), 2)
    assert expected in line


def test_a_worker_without_threads_says_how_to_give_them() -> None:
    # The conformance kit's handler module defines no THREADS.
    result = taskkit("worker", "taskkit_core.testing.support:RecordingHandler", *MEMORY)
    line = assert_one_error_line(result, 2)
    assert "--threads GROUP=N" in line


def test_waiting_on_a_private_backend_is_a_runtime_error() -> None:
    result = taskkit("enqueue", APP, "default", "echo", "--wait", *MEMORY)
    assert "private to this process" in assert_one_error_line(result, 1)


def test_debug_shows_the_traceback_then_the_same_line() -> None:
    result = taskkit("--debug", "status", "--url", "nosuch://x")
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: no installed backend")


CANARIES = ["Pw-CANARY-zq7kx", "Pw/CAN#ARY@7f:%", "Pw%2FCANARY%407f"]


def _installed(url: str) -> bool:
    try:
        lookup_backend(url)
    except UnknownBackendError:
        return False
    return True


def assert_no_secret(output: str, secret: str) -> None:
    """Neither the secret nor any 5-character piece of it is in ``output``."""
    pieces = {secret[i : i + 5] for i in range(len(secret) - 4)}
    leaked = [piece for piece in pieces if piece in output]
    assert not leaked, f"{leaked} leaked into: {output}"


@pytest.mark.parametrize("debug", [False, True], ids=["argv", "env-debug"])
def test_status_on_an_unreachable_server_prints_one_line_without_the_password(
    debug: bool,
) -> None:
    url = "postgresql://u:secret@127.0.0.1:1/db"
    if debug:
        result = taskkit("--debug", "status", env=cli_env(TASKKIT_URL=url))
    else:
        result = taskkit("status", "--url", url)
    assert "secret" not in result.stdout + result.stderr
    # 1: the server cannot be reached; 2: taskkit-sql[postgres] is not installed.
    code = 1 if _installed(url) else 2
    if debug:
        assert result.returncode == code
        assert "Traceback" in result.stderr
    else:
        line = assert_one_error_line(result, code)
        assert "postgresql://u:***@127.0.0.1:1/db" in line


@pytest.mark.parametrize(
    ("canary", "scheme", "how"),
    [(canary, "postgresql", "argv") for canary in CANARIES]
    + [(CANARIES[1], "postgresql", "env-debug")]
    + [(CANARIES[1], scheme, "argv") for scheme in ("mysql", "redis", "nosuch")],
)
def test_status_never_shows_the_password(canary: str, scheme: str, how: str) -> None:
    url = f"{scheme}://user:{canary}@127.0.0.1:1/0"
    if how == "argv":
        result = taskkit("status", "--url", url)
    else:
        result = taskkit("--debug", "status", env=cli_env(TASKKIT_URL=url))
    assert_no_secret(result.stdout + result.stderr, canary)


@pytest.mark.parametrize(
    "command",
    [
        ["migrate", "--sql"],
        ["pause"],
        ["enqueue", APP, "default", "echo"],
        ["worker", APP],
        ["demo", "--tasks", "1"],
    ],
    ids=lambda c: "-".join(c[:2]),
)
def test_no_command_shows_the_password(command: list[str]) -> None:
    canary = CANARIES[1]
    result = taskkit("--debug", *command, "--url", f"postgresql://user:{canary}@127.0.0.1:1/0")
    assert result.returncode in (1, 2)
    assert_no_secret(result.stdout + result.stderr, canary)


def test_storage_that_is_not_migrated_is_a_runtime_error_that_says_what_to_run(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    if not _installed(url):
        pytest.skip("taskkit-sql is not installed")
    line = assert_one_error_line(taskkit("status", "--url", url), 1)
    assert "taskkit migrate" in line


def test_the_url_can_come_from_a_file(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    url_file.write_text("nosuch://user:Pw-CANARY-zq7kx@host/x\n")
    result = taskkit("status", env=cli_env(TASKKIT_URL_FILE=str(url_file)))
    assert "nosuch://user:***@host/x" in assert_one_error_line(result, 2)
    missing = taskkit("status", env=cli_env(TASKKIT_URL_FILE=str(tmp_path / "none")))
    assert "cannot read TASKKIT_URL_FILE" in assert_one_error_line(missing, 2)
