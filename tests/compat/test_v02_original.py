"""The upgrade from taskkit 0.2: its program runs unchanged on the compatibility layer.

v02_original.py imports ``taskkit`` and ``taskkit.impl.redis.make_kit`` as it
did on taskkit 0.2.4; after ``pip install -U taskkit`` those imports resolve
to the layer in src/taskkit/, which runs the program on taskkit_core. The
program gives expected_v02.json, what it printed on taskkit 0.2.4.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.servers import RedisServer, missing_tool
from taskkit_core.testing import OpenConnection

HERE = Path(__file__).parent
EXPECTED: dict[str, Any] = json.loads((HERE / "expected_v02.json").read_text())

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)  # asserted by the subprocess tests below
    import taskkit

    from . import v02_original


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A Redis server of this test's own: make_kit uses the default namespace, as 0.2 did."""
    reason = missing_tool("redis")
    if reason:
        pytest.fail(f"cannot start a private Redis server: {reason}")
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.destroy()


def run_python(*args: str, cwd: Path = HERE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=180, cwd=cwd, check=False
    )


def test_the_original_program_runs_unchanged_as_a_script_on_redis(
    private_redis: RedisServer,
) -> None:
    done = run_python("v02_original.py", str(private_redis.port))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == EXPECTED
    # One warning for the program; its two worker processes stay quiet.
    assert done.stderr.count("FutureWarning") == 1, done.stderr
    assert "v02_original.py" in done.stderr  # it points at the line that imported taskkit
    assert "taskkit_core.Kit.from_url" in done.stderr


def test_the_original_program_gives_the_original_results_on_every_backend(
    taskkit_open: OpenConnection,
) -> None:
    connection = taskkit_open()
    kit = taskkit.Kit(connection.backend, connection.bridge, v02_original.Handler())
    if kit.backend.capabilities.multi_process:
        outcome = v02_original.main(kit, v02_original.start_processes, v02_original.join_processes)
    else:  # memory://: threads in this process, as in test_v02_program.py
        outcome = v02_original.main(kit, _start_threads, _stop_threads)
    assert outcome == EXPECTED


def _start_threads(kit: Any) -> list[Any]:
    return [kit.start_threads({v02_original.GROUP: 4}) for _ in range(2)]


def _stop_threads(runtimes: list[Any]) -> list[int]:
    return [0 if runtime.wait(timeout=60) else 1 for runtime in runtimes]


def test_every_public_name_of_taskkit_0_2_is_importable() -> None:
    names_of_0_2 = [
        "Backend", "ControlEvent", "DiscardTask", "DuplicationPolicy", "EventBridge", "Failed",
        "InitiateTaskArgs", "Kit", "Lock", "NoResult", "NotFound", "OnlyEarliest", "OnlyLatest",
        "RegularSchedule", "Result", "ResultGetTimedOut", "Schedule", "ScheduleEntriesCompat",
        "ScheduleEntriesCompatMapping", "ScheduleEntry", "ScheduleEntryCompat",
        "ScheduleEntryDict", "StageInfo", "Task", "TaskHandler", "TaskkitProcess", "VERSION",
    ]  # fmt: skip
    code = f"import taskkit; print([n for n in {names_of_0_2!r} if not hasattr(taskkit, n)])"
    done = run_python("-W", "error::DeprecationWarning", "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert done.stderr.count("FutureWarning") == 1


def test_the_warning_is_given_once_and_says_what_to_change() -> None:
    code = (
        "import taskkit, taskkit.kit, taskkit.task, taskkit.scheduler\n"
        "from taskkit.impl.redis import make_kit\n"
        "from taskkit.utils import set_cur_ts_impl\n"
    )
    done = run_python("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("FutureWarning") == 1, done.stderr
    assert "import from taskkit_core instead of taskkit" in done.stderr
    assert "#porting-from-taskkit-02" in done.stderr


@pytest.mark.parametrize("module", ["taskkit.contrib.django", "taskkit.impl.django"])
def test_the_django_entry_points_say_where_the_integration_went(module: str) -> None:
    done = run_python("-W", "ignore::FutureWarning", "-c", f"import {module}")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: taskkit 0.2's Django backend")
    assert "INSTALLED_APPS" in last
    assert "taskkit 0.4's Django integration: see https://" in last


def test_make_kit_reads_the_address_and_credentials_of_the_client() -> None:
    from redis import Redis

    from taskkit.impl.redis import redis_url

    assert redis_url(Redis()) == "redis://localhost:6379/0"
    client = Redis(host="cache.internal", port=6380, db=3, username="app", password="p/w@")
    assert redis_url(client) == "redis://app:p%2Fw%40@cache.internal:6380/3"
    assert redis_url(Redis(ssl=True, password="pw")).startswith("rediss://:pw@localhost")
    assert redis_url(Redis(unix_socket_path="/run/redis.sock", db=2)) == (
        "unix:///run/redis.sock?db=2"
    )
