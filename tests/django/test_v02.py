"""Moving from taskkit 0.2's Django backend, against the real taskkit 0.2.4 from PyPI.

A virtualenv of its own holds taskkit 0.2.4 and Django: its program
(v02/program.py) migrates 0.2's Django app and fills its tables with tasks
in every state; ``manage.py taskkit_move_v02`` of the test project moves
them; taskkit 0.4 workers then run each unfinished task exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.availability import unavailable
from harness.django_project import manage, project_env
from taskkit_core.testing import wait_until
from taskkit_core.testing.support import RecordingHandler

from taskkit_core import Kit

PROGRAM = Path(__file__).parent / "v02" / "program.py"
V02_TABLES = (
    "taskkit_task",
    "taskkit_task_queue",
    "taskkit_worker",
    "taskkit_scheduler_state",
    "taskkit_lock",
    "taskkit_control_event",
)
V02_REQUIREMENTS = ["taskkit==0.2.4", "Django>=5.2,<5.3", "PyMySQL>=1.1"]

pytestmark = [pytest.mark.usefixtures("django_project"), pytest.mark.slow]


@pytest.fixture(scope="session")
def v02_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The python of a virtualenv with taskkit 0.2.4, Django and PyMySQL from PyPI."""
    root = tmp_path_factory.mktemp("taskkit-0.2.4")
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(root)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(root / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
        install = [str(root / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*install, *V02_REQUIREMENTS], check=True, timeout=240)
    return str(root / "bin" / "python")


def v02(python: str, entry: dict[str, Any], *args: str) -> dict[str, Any]:
    env = {**os.environ, "V02_DATABASE": json.dumps(entry)}
    done = subprocess.run(
        [python, str(PROGRAM), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def move(alias: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = manage("taskkit_move_v02", "--database", alias, *args)
    return subprocess.run(
        command,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["default", "mysql"])
def v02_alias(request: pytest.FixtureRequest, django_project: dict[str, Any]) -> str:
    """SQLite, then MariaDB: the databases taskkit 0.2 ran on in production."""
    if request.param not in django_project:
        unavailable("TASKKIT_TEST_MYSQL_URL is not set: the 0.2 move tests on MariaDB need it")
    return str(request.param)


@pytest.fixture
def kit(v02_alias: str) -> Iterator[Kit]:
    kit = Kit.from_url(f"django://{v02_alias}", RecordingHandler())
    kit.backend.destroy_all()
    yield kit
    kit.close()


def _fresh_v02_tables(alias: str) -> None:
    from django.db import connections

    connection = connections[alias]
    with connection.cursor() as cursor:
        for table in V02_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'taskkit'")


def _every_task_runs_once(kit: Kit, handler: RecordingHandler, ids: list[str]) -> None:
    with kit.start_threads({"default": 4, "held": 1}, polling_interval=0.1):
        wait_until(lambda: all(handler.ran(task_id) for task_id in ids), timeout=30)
        time.sleep(0.5)  # anything run twice would show by now
    assert sorted(len(handler.ran(task_id)) for task_id in ids) == [1] * len(ids)
    assert sum(s.queued for s in kit.backend.group_stats(0)) == 0


def test_every_unfinished_task_moves_and_runs_once(
    v02_python: str, v02_alias: str, kit: Kit, django_project: dict[str, Any]
) -> None:
    _fresh_v02_tables(v02_alias)
    filled = v02(v02_python, django_project[v02_alias], "fill", "6")
    done = move(v02_alias)
    assert done.returncode == 0, done.stderr
    assert "moved 10 task(s) and 1 scheduler state(s)" in done.stdout
    assert "2 finished task(s) stay" in done.stdout
    assert kit.backend.get_scheduler_state("v02-schedule") == filled["state"].encode()
    again = move(v02_alias)
    assert "moved 0 task(s) and 0 scheduler state(s)" in again.stdout
    handler = kit.handler
    assert isinstance(handler, RecordingHandler)
    _every_task_runs_once(kit, handler, filled["unfinished"])
    assert not any(handler.ran(task_id) for task_id in filled["finished"])


def test_a_move_killed_half_way_finishes_when_run_again(
    v02_python: str, v02_alias: str, kit: Kit, django_project: dict[str, Any]
) -> None:
    _fresh_v02_tables(v02_alias)
    filled = v02(v02_python, django_project[v02_alias], "fill", "9")
    crashed = move(v02_alias, "--batch", "4", TASKKIT_CRASHPOINT="django.v02.batch")
    assert crashed.returncode == 137
    assert "moved 4 task(s)" in crashed.stdout
    assert sum(s.queued for s in kit.backend.group_stats(0)) == 4
    done = move(v02_alias, "--batch", "4")
    assert done.returncode == 0, done.stderr
    assert "moved 9 task(s) and 0 scheduler state(s)" in done.stdout
    handler = kit.handler
    assert isinstance(handler, RecordingHandler)
    _every_task_runs_once(kit, handler, filled["unfinished"])


def test_nothing_moves_while_a_v02_worker_is_alive(
    v02_python: str, v02_alias: str, django_project: dict[str, Any], kit: Kit
) -> None:
    alias = v02_alias
    _fresh_v02_tables(alias)
    v02(v02_python, django_project[alias], "fill", "2")
    env = {**os.environ, "V02_DATABASE": json.dumps(django_project[alias])}
    worker = subprocess.Popen([v02_python, str(PROGRAM), "worker"], env=env, start_new_session=True)
    try:
        from django.db import connections

        def leased() -> bool:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM taskkit_worker")
                return int(cursor.fetchone()[0]) > 0

        wait_until(leased, timeout=30)
        refused = move(alias)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert "taskkit 0.2 worker(s) are alive" in line and "nothing was moved" in line
    assert kit.backend.group_stats(0) == []
