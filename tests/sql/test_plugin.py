"""The plugin: registered through the entry point, cheap to load, honest about capabilities."""

from __future__ import annotations

import subprocess
import sys

import pytest
from taskkit_core.plugins import list_backends

CHECK_IMPORTS = """
import sys
import taskkit_sql.plugin
from taskkit_core.plugins import list_backends
list_backends()
heavy = [m for m in ("sqlalchemy", "alembic", "psycopg", "pymysql") if m in sys.modules]
print(",".join(heavy))
"""


def test_loading_the_plugin_imports_no_database_library() -> None:
    command = [sys.executable, "-c", CHECK_IMPORTS]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


JOB_CONTROL = ["priorities", "unique_tasks"]
EVERYTHING = [
    "multi_process",
    "push_wakeups",
    "transactional_enqueue",
    "server_clock",
    *JOB_CONTROL,
]


@pytest.mark.parametrize(
    ("scheme", "capabilities"),
    [
        ("sqlite", ["multi_process", "push_wakeups", "transactional_enqueue", *JOB_CONTROL]),
        ("postgresql", EVERYTHING),
        ("postgresql+psycopg", EVERYTHING),
        ("mysql", EVERYTHING),  # push_wakeups: the look for due tasks (duewatch)
        ("mariadb+pymysql", EVERYTHING),
    ],
)
def test_each_scheme_is_served_by_taskkit_sql(scheme: str, capabilities: list[str]) -> None:
    (info,) = [b for b in list_backends() if b.scheme == scheme]
    assert info.distribution == "taskkit-sql"
    assert info.capabilities == capabilities
