"""Nothing grows without bound: finished tasks expire, indexes are pruned, workers leave."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from taskkit_core.backend import Outcome
from taskkit_core.errors import Failed, NoResult, NotFound
from taskkit_core.kit import InitiateTaskArgs, Kit
from taskkit_core.testing import FAST_SETTINGS, RecordingHandler, make_task, wait_until
from taskkit_redis.keys import Keys

OpenConnection = Callable[..., Any]

LONG_LIVED = {"schedulers"}
"""The structural keys documented (taskkit_redis.keys) to live without expiry."""


def keys_without_expiry(raw: redis.Redis, namespace: str) -> set[str]:
    """Names (after the prefix) of the namespace's keys that have no TTL."""
    prefix = Keys(namespace).prefix
    found = set()
    for key in raw.scan_iter(match=Keys(namespace).pattern, count=1000):
        if raw.pttl(key) == -1:
            found.add(key.decode().removeprefix(prefix))
    return found


def test_a_finished_task_and_its_result_expire_after_their_ttl(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    succeeded, failed, eager = make_task(ttl=1.0), make_task(ttl=1.0), make_task(ttl=1.0)
    backend.put_tasks(succeeded, failed)
    claims = {c.task.id: c for c in backend.claim_tasks("g", "w", 2)}
    backend.settle(
        Outcome.succeeded(claims[succeeded.id], b"result"),
        Outcome.failed(claims[failed.id], "error"),
    )
    backend.put_done_task(eager, result=b"eager")
    keys = Keys(namespace)
    for task in (succeeded, failed, eager):
        assert 0 < raw.pttl(keys.task(task.id)) <= 1000
    assert backend.get_result(succeeded.id)[1] == b"result"
    ids = {succeeded.id, failed.id, eager.id}
    wait_until(lambda: set(backend.get_disposable_task_ids(10)) == ids, timeout=10)
    # Redis expired the hashes by itself; the indexes still list them until discarded
    wait_until(lambda: set(backend.lookup_tasks(*ids).values()) == {None}, timeout=10)
    with pytest.raises(NotFound):
        backend.get_result(succeeded.id)
    assert backend.get_done_task_ids(None, None, 10) == []
    backend.discard_tasks(*backend.get_disposable_task_ids(10))
    assert backend.get_disposable_task_ids(10) == []
    assert keys_without_expiry(raw, namespace) == set()


def test_queued_and_staged_tasks_do_not_expire(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    queued, staged = make_task(ttl=0.001), make_task(ttl=0.001)
    backend.put_tasks(staged)
    backend.claim_tasks("g", "w", 1)
    backend.put_tasks(queued)
    keys = Keys(namespace)
    assert raw.pttl(keys.task(queued.id)) == -1
    assert raw.pttl(keys.task(staged.id)) == -1
    time.sleep(0.05)
    assert None not in backend.lookup_tasks(queued.id, staged.id).values()


def test_after_a_run_only_documented_long_lived_keys_lack_a_ttl(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    connection = open_connection()
    handler = RecordingHandler()
    kit = Kit(
        connection.backend,
        connection.bridge,
        handler,
        settings=FAST_SETTINGS,
        backend_options={"namespace": namespace},
    )
    handler.kit = kit
    kinds: list[tuple[str, Any]] = [
        ("echo", 1),
        ("fail", "x"),
        ("flaky", {"failures": 1}),
        ("discard", None),
        ("discard_on_retry", None),
    ]
    items: list[InitiateTaskArgs] = [
        {"group": g, "name": n, "data": d, "ttl": 0.5} for g in ("a", "b:c") for n, d in kinds
    ]
    results = kit.initiate_tasks(*items)
    kit.initiate_task("a", "echo", 2, ttl=0.5, eager=True)
    runtime = kit.start_threads({"a": 2, "b:c": 2}, polling_interval=0.1)
    try:
        wait_until(lambda: all(_finished_or_gone(kit, r.task_id) for r in results), timeout=20)
        # the discard service (FAST_SETTINGS: every 0.3 s) prunes the indexes
        done = Keys(namespace)
        wait_until(lambda: raw.zcard(done.done) == raw.zcard(done.expiry) == 0, timeout=20)
    finally:
        assert runtime.stop(timeout=10)
    assert keys_without_expiry(raw, namespace) <= LONG_LIVED
    assert raw.zcard(Keys(namespace).leases) == 0, "a stopped worker removes its lease"


def _finished_or_gone(kit: Kit, task_id: str) -> bool:
    try:
        kit.backend.get_result(task_id)
    except NoResult:
        return False
    except (NotFound, Failed):
        return True
    return True


def test_dead_workers_leave_no_keys(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    backend.put_tasks(make_task())
    backend.refresh_leases({"mortal"}, 0.2)
    backend.claim_tasks("g", "mortal", 1)  # leaves a claim record of the worker
    assert raw.exists(Keys(namespace).worker_claims("mortal"))
    assert wait_until(backend.purge_expired_leases, timeout=10) == ["mortal"]
    assert not raw.exists(Keys(namespace).worker_claims("mortal"))
    assert raw.zcard(Keys(namespace).leases) == 0


def test_a_released_lock_leaves_no_key_and_a_held_one_expires(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    lock = backend.get_lock("job")
    assert lock.acquire()
    key = Keys(namespace).lock("job")
    assert 0 < raw.pttl(key) <= 30_000
    lock.release()
    assert not raw.exists(key)
