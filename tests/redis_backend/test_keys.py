"""The key layout: namespaces never share keys, odd group names never share keys."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import redis
from taskkit_core.backend import Outcome
from taskkit_core.events import make_event
from taskkit_core.testing import make_task
from taskkit_redis.backend import RedisBackend
from taskkit_redis.keys import Keys, encode_name

OpenConnection = Callable[..., Any]

ODD_GROUPS = [
    "a",
    "a:b",
    "a:",
    ":a",
    "q:61",  # looks like the encoded name of "a"
    "{tag}",
    "}{",
    "{",
    "with space",
    "line\nbreak",
    "tab\there",
    "x" * 400,
    "\U0001f600" * 400,
    "grp-\U0001f600",
    "grp-\U0001f601",
    "caf\u00e9",
    "cafe\u0301",
    "*",
    "a[b]",
    "staged",
    "groups",
]


def namespace_keys(raw: redis.Redis, namespace: str) -> set[bytes]:
    return set(raw.scan_iter(match=Keys(namespace).pattern, count=1000))


def fill(backend: RedisBackend) -> None:
    """A task in every state, a worker, a lock, a schedule and an event."""
    queued, staged, done = (make_task(data=i) for i in range(3))
    backend.put_tasks(staged)
    backend.claim_tasks("g", "w1", 1)
    backend.put_tasks(done)
    (claim,) = backend.claim_tasks("g", "w1", 1)
    backend.settle(Outcome.succeeded(claim, b"r"))
    backend.put_tasks(queued, make_task(due=time.time() + 3600))
    backend.refresh_leases({"w1"}, 60)
    assert backend.get_lock("job").acquire()
    backend.persist_scheduler_state_and_put_tasks("s", b"state", expected=None)


def test_every_key_of_a_namespace_carries_its_hash_tag_prefix(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    connection = open_connection()
    fill(connection.backend)
    connection.bridge.send_event(make_event("pause", None))
    keys = namespace_keys(raw, namespace)
    assert len(keys) >= 8
    assert all(key.startswith(f"{{{namespace}}}:".encode()) for key in keys)


def test_two_namespaces_sharing_a_name_prefix_never_share_keys(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    mine, theirs = open_connection(namespace), open_connection(f"{namespace}_b")
    fill(mine.backend)
    fill(theirs.backend)
    my_keys, their_keys = namespace_keys(raw, namespace), namespace_keys(raw, f"{namespace}_b")
    assert my_keys and their_keys
    assert not my_keys & their_keys
    # keys that merely look alike stay untouched by destroy_all
    lookalikes = [f"{{{namespace}}}x", f"{namespace}:g", f"{{{namespace}_b}}:extra"]
    for key in lookalikes:
        raw.set(key, b"keep")
    try:
        mine.backend.destroy_all()
        assert namespace_keys(raw, namespace) == set()
        assert namespace_keys(raw, f"{namespace}_b") == their_keys | {lookalikes[2].encode()}
        assert all(raw.get(key) == b"keep" for key in lookalikes)
        assert theirs.backend.get_scheduler_state("s") == b"state"
    finally:
        raw.delete(*lookalikes)


def test_odd_group_names_get_keys_of_their_own(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    keys = Keys(namespace)
    tasks = {group: make_task(group=group, data=i) for i, group in enumerate(ODD_GROUPS)}
    backend.put_tasks(*tasks.values())
    queue_keys = {keys.queue(group) for group in ODD_GROUPS}
    assert len(queue_keys) == len(ODD_GROUPS)
    for group, task in tasks.items():
        assert raw.zrange(keys.queue(group), 0, -1) == [task.id.encode()], group
    stored = {key for key in namespace_keys(raw, namespace) if b":q:" in key}
    assert stored == {key.encode() for key in queue_keys}
    assert all(key.decode().isprintable() for key in stored)


def test_scripts_find_the_queue_of_an_odd_group_as_python_does(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    # restore.lua and settle.lua derive a task's queue key from its group in
    # Lua; both encodings must agree or restored tasks land in a wrong queue.
    backend = open_connection().backend
    keys = Keys(namespace)
    tasks = {group: make_task(group=group) for group in ODD_GROUPS}
    backend.put_tasks(*tasks.values())
    claims = {group: backend.claim_tasks(group, "dead", 1)[0] for group in ODD_GROUPS}
    assert len(backend.restore_abandoned(100)) == len(ODD_GROUPS)
    for group, task in tasks.items():
        assert raw.zrange(keys.queue(group), 0, -1) == [task.id.encode()], group
    backend.refresh_leases({"w"}, 60)
    claims = {group: backend.claim_tasks(group, "w", 1)[0] for group in ODD_GROUPS}
    assert backend.settle(*(Outcome.retried(c, 0) for c in claims.values())) == [True] * len(
        ODD_GROUPS
    )
    for group, task in tasks.items():
        assert raw.zrange(keys.queue(group), 0, -1) == [task.id.encode()], group
    assert sorted(s.group for s in backend.group_stats(0)) == sorted(ODD_GROUPS)


def test_discarding_an_odd_group_leaves_the_others(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    tasks = {group: make_task(group=group) for group in ODD_GROUPS}
    backend.put_tasks(*tasks.values())
    backend.discard_tasks(tasks["a"].id)
    assert [t.id for t in backend.get_queued_tasks("a", 10)] == []
    for group in ODD_GROUPS[1:]:
        assert [t.id for t in backend.get_queued_tasks(group, 10)] == [tasks[group].id]
    assert "a" not in {s.group for s in backend.group_stats(0)}


def test_names_are_encoded_as_hex_of_their_utf8_bytes() -> None:
    assert encode_name("a") == "61"
    assert encode_name("a:b") == "613a62"
    assert encode_name("\U0001f600") == "f09f9880"
    assert len({encode_name(g) for g in ODD_GROUPS}) == len(ODD_GROUPS)
    keys = Keys(f"tkr_{secrets.token_hex(5)}")
    assert keys.queue("a") != keys.queue("a:b") != keys.queue("q:61")
