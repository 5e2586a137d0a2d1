"""Connections: no transaction is left open between calls, and sessions are set up as promised."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from taskkit_core.backend import Outcome
from taskkit_core.events import EventBridge, make_event
from taskkit_core.testing import make_task
from taskkit_sql.backend import SqlBackend

from .support import ON_MARIADB, ON_POSTGRESQL, ON_SERVERS, plain_engine


def _workout(backend: SqlBackend, bridge: EventBridge) -> None:
    """One of everything a worker does."""
    backend.refresh_leases({"w1"}, 60)
    backend.put_tasks(*(make_task(data=i) for i in range(5)))
    claims = backend.claim_tasks("g", "w1", 3)
    backend.settle(*(Outcome.succeeded(claim, b"r") for claim in claims))
    backend.restore_abandoned(10)
    backend.lookup_tasks(*(claim.task.id for claim in claims))
    bridge.send_event(make_event("pause", None))
    bridge.receive_events(0.01)
    lock = backend.get_lock("job")
    lock.acquire()
    lock.release()


@ON_POSTGRESQL
def test_no_postgresql_session_is_left_idle_in_transaction(
    backend: SqlBackend, bridge: EventBridge, taskkit_url: str
) -> None:
    _workout(backend, bridge)
    pool: Any = backend.database.engine.pool
    # This backend's own sessions: other tests may share the server and be mid-transaction.
    pids = [record.dbapi_connection.info.backend_pid for record in pool._pool.queue]
    assert pids, "the workout left connections in the pool"
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        states = conn.execute(
            text("SELECT state FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
        ).scalars()
        assert "idle in transaction" not in set(states)


@ON_MARIADB
def test_no_mariadb_session_keeps_a_transaction(backend: SqlBackend, bridge: EventBridge) -> None:
    _workout(backend, bridge)
    pool: Any = backend.database.engine.pool
    records = list(pool._pool.queue)  # the idle pooled connections (QueuePool internals)
    assert records, "the workout left connections in the pool"
    for record in records:
        # The server's status flags, as its last reply reported them: bit 1 = in transaction.
        assert record.dbapi_connection.server_status & 1 == 0


@ON_SERVERS
def test_transactions_are_read_committed_and_mariadb_sessions_are_utc(
    backend: SqlBackend, taskkit_url: str
) -> None:
    database = backend.database
    query = (
        "SELECT @@tx_isolation, @@time_zone"
        if taskkit_url.startswith("mysql")
        else "SELECT current_setting('transaction_isolation'), 'UTC'"
    )
    with database.write() as conn:
        isolation, zone = conn.execute(text(query)).one()
    assert isolation.replace("-", " ").lower() == "read committed"
    assert zone in ("+00:00", "UTC")
