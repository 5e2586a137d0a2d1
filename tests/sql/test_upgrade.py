"""Upgrading a namespace from schema revision 0001 (taskkit 0.3) to the current one loses nothing.

The 0001 tables are made by the 0001 migration itself and filled the way
taskkit 0.3 wrote them (a failed task was a done row without a result);
then ``taskkit migrate`` upgrades them while they hold queued, staged,
failed and succeeded tasks, and a worker of this version finishes the
queued and staged ones.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from taskkit_core.errors import Failed, StorageNotReady
from taskkit_core.kit import Kit
from taskkit_core.opening import connect, migrate
from taskkit_core.task import new_task_id
from taskkit_core.testing import FAST_SETTINGS, OpenConnection, RecordingHandler, make_task
from taskkit_sql.columns import Message, Name, Payload

from taskkit_core import TaskState
from taskkit_sql import migrations

from .support import ON_EVERY_DATABASE, plain_engine


def _tasks_0001(namespace: str) -> sa.TableClause:
    """The tasks table as revision 0001 has it (taskkit's own types, for MySQL's bytes)."""
    columns = ["due", "created", "scheduled", "ttl", "began", "done_at", "expires_at"]
    return sa.table(
        f"{namespace}_tasks",
        sa.column("id", Name(64)),
        sa.column("group_name", Name(400)),
        sa.column("name", Name(400)),
        sa.column("data", Payload()),
        sa.column("retry_count", sa.Integer),
        sa.column("state", sa.SmallInteger),
        sa.column("worker_id", Name(400)),
        sa.column("attempt", sa.Integer),
        sa.column("result", Payload()),
        sa.column("error", Message()),
        *(sa.column(name, sa.Double) for name in columns),
    )


def _row(state: int, **values: Any) -> dict[str, Any]:
    now = time.time()
    row = {
        "id": new_task_id(),
        "group_name": "g",
        "name": "echo",
        "data": json.dumps(state).encode(),
        "due": now - 5,
        "created": now - 5,
        "scheduled": None,
        "retry_count": 0,
        "ttl": 3600.0,
        "state": state,
        "worker_id": None,
        "attempt": 0,
        "began": None,
        "result": None,
        "error": None,
        "done_at": None,
        "expires_at": None,
    }
    return {**row, **values}


def _fill_0001(url: str, namespace: str) -> dict[str, dict[str, Any]]:
    now = time.time()
    done = {"worker_id": "w-old", "attempt": 1, "began": now - 4, "done_at": now - 3}
    rows = {
        "queued": _row(0),
        "staged": _row(1, worker_id="w-dead", attempt=1, began=now - 4),
        "failed": _row(2, error="Traceback: boom", expires_at=now + 3600, **done),
        "succeeded": _row(2, result=b'"done"', expires_at=now + 3600, **done),
    }
    with plain_engine(url) as engine, engine.begin() as conn:
        conn.execute(sa.insert(_tasks_0001(namespace)), list(rows.values()))
    return rows


@ON_EVERY_DATABASE
def test_an_upgrade_from_0001_keeps_every_task_and_the_queued_and_staged_ones_run(
    taskkit_url: str, taskkit_namespace: str, taskkit_open: OpenConnection
) -> None:
    migrations.migrate(taskkit_url, {"namespace": taskkit_namespace}, False, revision="0001")
    rows = _fill_0001(taskkit_url, taskkit_namespace)
    with pytest.raises(StorageNotReady, match="at schema revision 0001"):
        connect(taskkit_url, namespace=taskkit_namespace)

    report = migrate(taskkit_url, namespace=taskkit_namespace)
    assert report is not None and "from 0001 to schema revision" in report
    backend = taskkit_open().backend
    infos = {label: backend.read_task(row["id"]) for label, row in rows.items()}
    states = {label: info.state if info else None for label, info in infos.items()}
    assert states == {
        "queued": TaskState.QUEUED,
        "staged": TaskState.STAGED,
        "failed": TaskState.FAILED,
        "succeeded": TaskState.SUCCEEDED,
    }
    for info in infos.values():
        assert info is not None and info.task.priority == 0 and info.task.unique is None
        assert info.task.headers == {} and info.task.timeout is None
    failed = rows["failed"]["id"]
    with pytest.raises(Failed, match="boom"):
        backend.get_result(failed)
    assert backend.list_tasks(TaskState.FAILED)[0].task.id == failed
    assert backend.get_result(rows["succeeded"]["id"])[1] == b'"done"'

    # A worker of this version restores the dead worker's task and runs both.
    connection = taskkit_open()
    kit = Kit(connection.backend, connection.bridge, RecordingHandler(), settings=FAST_SETTINGS)
    runtime = kit.start_threads({"g": 2}, polling_interval=0.2)
    try:
        for label in ("queued", "staged"):
            assert (
                kit.get_result(rows[label]["id"]).get(timeout=30)
                == {
                    "queued": 0,
                    "staged": 1,
                }[label]
            )
    finally:
        runtime.stop(timeout=10)


@ON_EVERY_DATABASE
def test_a_downgrade_to_0001_keeps_failed_and_cancelled_tasks_as_failed(
    taskkit_url: str, taskkit_namespace: str, taskkit_open: OpenConnection
) -> None:
    backend = taskkit_open().backend
    failed, cancelled, queued = make_task(), make_task(), make_task()
    backend.put_tasks(failed, cancelled, queued)
    backend.cancel_tasks(cancelled.id)
    backend.put_done_task(failed, error="boom")
    migrations.migrate(taskkit_url, {"namespace": taskkit_namespace}, False, revision="0001")
    tasks = _tasks_0001(taskkit_namespace)
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        stored = {r.id: r.state for r in conn.execute(sa.select(tasks.c.id, tasks.c.state))}
    assert stored == {failed.id: 2, cancelled.id: 2, queued.id: 0}
    migrate(taskkit_url, namespace=taskkit_namespace)
    assert backend.read_task(cancelled.id).state is TaskState.FAILED  # type: ignore[union-attr]
