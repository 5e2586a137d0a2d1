"""Upgrade in place: data written by taskkit 0.3's scripts, finished by this version.

The 0.3 scripts (``v03/``, frozen copies) write queued, retried, staged (to a
live and to a dead worker), succeeded, failed and eager tasks exactly as a
0.3 worker did. The current backend then reads them back, lists them
(building the indexes 0.3 never kept, lazily), settles the 0.3 claim,
restores the dead worker's task, and a worker runs everything to completion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import redis
from taskkit_core.backend import Claim, Outcome, RetryResult, TaskState
from taskkit_core.kit import Kit
from taskkit_core.task import Task
from taskkit_core.testing import FAST_SETTINGS, RecordingHandler, make_task, wait_until
from taskkit_redis.keys import Keys

OpenConnection = Callable[..., Any]

V03 = Path(__file__).with_name("v03")


class OldWorker:
    """taskkit 0.3's Redis scripts on a raw client, called as its backend called them."""

    def __init__(self, raw: redis.Redis, namespace: str) -> None:
        lib = (V03 / "lib.lua").read_text()
        self.k = Keys(namespace)
        self.scripts = {
            name: raw.register_script(f"{lib}\n{(V03 / f'{name}.lua').read_text()}")
            for name in ("put", "claim", "settle", "finish_eager", "heartbeat")
        }

    def put(self, *tasks: Task) -> None:
        args = [a for task in tasks for a in _args_03(task)]
        self.scripts["put"](keys=[self.k.groups], args=[self.k.prefix, *args])

    def claim(self, group: str, worker: str, limit: int) -> list[Any]:
        keys = [self.k.queue(group), self.k.staged, self.k.groups, self.k.worker_claims(worker)]
        args = [self.k.prefix, group, worker, str(limit), f"token-{time.monotonic_ns()}"]
        return list(self.scripts["claim"](keys=keys, args=args))

    def settle(self, kind: str, row: Any, worker: str, payload: bytes, delay: float = 0) -> int:
        keys = [self.k.staged, self.k.done, self.k.expiry, self.k.groups]
        args = [self.k.prefix, kind, row[0], worker, row[1], payload, repr(delay)]
        (applied,) = self.scripts["settle"](keys=keys, args=args)
        return int(applied)

    def finish_eager(self, task: Task, result: bytes) -> None:
        args = [self.k.prefix, *_args_03(task), "succeeded", result]
        self.scripts["finish_eager"](keys=[self.k.done, self.k.expiry], args=args)

    def heartbeat(self, worker: str, ttl: float) -> None:
        self.scripts["heartbeat"](keys=[self.k.leases], args=[self.k.prefix, repr(ttl), worker])


def _args_03(task: Task) -> list[Any]:
    """The 9 script arguments of a task in 0.3: id, group, name, data, due, created,
    scheduled, retry_count, ttl."""
    scheduled = "" if task.scheduled is None else repr(task.scheduled)
    return [task.id, task.group, task.name, task.data, repr(task.due), repr(task.created),
            scheduled, str(task.retry_count), repr(task.ttl)]  # fmt: skip


def test_a_new_worker_finishes_what_taskkit_03_wrote(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    old = OldWorker(raw, namespace)
    tasks = {name: make_task(data=name) for name in ("queued", "retried", "live", "ok", "bad")}
    tasks["later"] = make_task(data="later", due=time.time() + 1)
    tasks["dead"] = make_task(group="h", data="dead")
    eager = make_task(data="eager")
    old.put(*tasks.values())
    rows = {json.loads(row[5]): row for row in old.claim("g", "old-live", 10)}
    assert set(rows) == {"queued", "retried", "live", "ok", "bad"}
    assert old.settle("released", rows.pop("queued"), "old-live", b"")
    assert old.settle("retried", rows.pop("retried"), "old-live", b"")
    assert old.settle("succeeded", rows.pop("ok"), "old-live", b'"ok"')
    assert old.settle("failed", rows.pop("bad"), "old-live", b"ValueError: bad")
    old.finish_eager(eager, b'"eager"')
    old.heartbeat("old-live", 60)
    assert len(old.claim("h", "old-dead", 10)) == 1  # a worker with no lease: dead

    backend = open_connection().backend
    assert {i.task.id for i in backend.list_tasks(TaskState.SUCCEEDED)} == {
        tasks["ok"].id,
        eager.id,
    }
    (failed,) = backend.list_tasks(TaskState.FAILED, "g")
    assert (failed.task, failed.error, failed.attempt) == (tasks["bad"], "ValueError: bad", 1)
    assert backend.get_result(tasks["ok"].id)[1] == b'"ok"'
    assert backend.read_task(tasks["retried"].id).task.retry_count == 1
    assert backend.lookup_tasks(tasks["dead"].id)[tasks["dead"].id] == tasks["dead"]

    # the live 0.3 worker's claim is settled by the new backend, fenced as before
    row = rows.pop("live")
    claim = Claim(tasks["live"], "old-live", int(row[1]), float(row[2]))
    assert backend.settle(Outcome.succeeded(claim, b'"live"')) == [True]
    assert backend.retry_tasks(tasks["bad"].id) == {tasks["bad"].id: RetryResult.QUEUED}

    connection = open_connection()
    handler = RecordingHandler()
    kit = Kit(connection.backend, connection.bridge, handler, settings=FAST_SETTINGS)
    runtime = kit.start_threads({"g": 2, "h": 1}, polling_interval=0.05)
    try:
        for name in ("queued", "retried", "dead", "later", "bad"):
            task_id = tasks[name].id
            wait_until(partial(_result, backend, task_id), timeout=20)
            assert _result(backend, task_id) == json.dumps(name).encode(), name
    finally:
        assert runtime.stop(timeout=10)
    assert backend.get_result(tasks["live"].id)[1] == b'"live"'
    assert backend.get_stage_info(10) == []
    assert {i.task.id for i in backend.list_tasks(TaskState.SUCCEEDED, limit=20)} == {
        t.id for t in (*tasks.values(), eager)
    }


def _result(backend: Any, task_id: str) -> bytes | None:
    info = backend.read_task(task_id)
    if info is None or info.state is not TaskState.SUCCEEDED:
        return None
    return bytes(backend.get_result(task_id)[1])
