"""Environment variables are scoped per command: one command's settings never reach another."""

from __future__ import annotations

from collections import Counter

from taskkit_core.cli import cli
from taskkit_core.cli.envhelp import variables_of

from .support import cli_env, taskkit

SHARED = {"TASKKIT_URL", "TASKKIT_URL_FILE", "TASKKIT_NAMESPACE", "TASKKIT_APP"}


def test_a_workers_settings_do_not_break_the_demo() -> None:
    env = cli_env(TASKKIT_PROCESSES="0", TASKKIT_WORKER_PROCESSES="0", TASKKIT_THREADS="x")
    result = taskkit("demo", "--tasks", "5", "--url", "memory://", env=env)
    assert result.returncode == 0, result.stderr
    assert "5 tasks in" in result.stdout


def test_no_variable_is_read_by_two_commands_unless_it_means_the_same_to_all() -> None:
    readers = Counter(
        name for command in cli.commands.values() for name in set(variables_of(command))
    )
    everywhere = set(variables_of(cli))
    assert {name for name, count in readers.items() if count > 1} <= SHARED | everywhere


def test_help_lists_the_variables_of_each_command() -> None:
    result = taskkit("--help")
    assert result.returncode == 0, result.stderr
    listing = result.stdout.partition("Environment variables, by command")[2]
    rows = " ".join(listing.split())  # the listing wraps at the terminal width
    assert "demo TASKKIT_URL, TASKKIT_URL_FILE, TASKKIT_NAMESPACE" in rows
    assert "TASKKIT_DEMO_PROCESSES" in rows
    assert "TASKKIT_WORKER_PROCESSES (0.3: TASKKIT_PROCESSES)" in rows
    assert "every command TASKKIT_DEBUG, TASKKIT_LOG_LEVEL" in rows
