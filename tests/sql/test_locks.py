"""Locks: session locks die with their process; SQLite leases expire; no open transaction."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import text
from taskkit_core.backend import Backend
from taskkit_core.clock import reset_cur_ts_impl, set_cur_ts_impl
from taskkit_core.testing import OpenConnection, wait_until
from taskkit_sql.databases.postgresql import advisory_key
from taskkit_sql.locks import LEASE_SECONDS

from .support import ON_POSTGRESQL, ON_SERVERS, ON_SQLITE, plain_engine

HOLDER = """
import sys, time
from taskkit_core.opening import connect
lock = connect(sys.argv[1], namespace=sys.argv[2]).backend.get_lock("job")
assert lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


@ON_SERVERS
def test_a_lock_of_a_killed_process_is_free_at_once(
    backend: Backend, taskkit_url: str, taskkit_namespace: str
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, taskkit_url, taskkit_namespace],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = backend.get_lock("job")
        assert not lock.acquire()
        holder.kill()
        holder.wait(10)
        assert wait_until(lock.acquire, timeout=10)
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)


@ON_POSTGRESQL
def test_a_held_lock_keeps_no_transaction_open(backend: Backend, taskkit_url: str) -> None:
    lock = backend.get_lock("job")
    assert lock.acquire()
    # The session holding this lock's key (other tests may share the server and hold theirs).
    key = advisory_key(backend.namespace, "job") & 0xFFFF_FFFF_FFFF_FFFF
    holder = (
        "SELECT a.state FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid = CAST(:high AS oid) AND l.objid = CAST(:low AS oid)"
    )
    try:
        with plain_engine(taskkit_url) as engine, engine.connect() as conn:
            params = {"high": key >> 32, "low": key & 0xFFFF_FFFF}
            states = conn.execute(text(holder), params).scalars()
            assert list(states) == ["idle"]
    finally:
        lock.release()


@ON_SQLITE
def test_a_sqlite_lease_lock_expires_and_stays_with_its_new_owner(
    backend: Backend, taskkit_open: OpenConnection
) -> None:
    first, second = backend.get_lock("job"), taskkit_open().backend.get_lock("job")
    assert first.acquire()
    assert not second.acquire()
    now = time.time()
    try:
        set_cur_ts_impl(lambda: now + LEASE_SECONDS + 1)
        assert second.acquire(), "an expired lease is free"
        first.release()  # not the owner any more: changes nothing
        assert not first.acquire()
    finally:
        reset_cur_ts_impl()
    second.release()
    assert first.acquire()
    first.release()
