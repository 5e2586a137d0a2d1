"""The events table behind the EventBridge, and PostgreSQL's LISTEN connection."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import func, select, text
from taskkit_core.backend import Backend
from taskkit_core.events import EventBridge, encode_control_event, make_event
from taskkit_core.testing import OpenConnection, make_task, wait_until
from taskkit_sql.changes import channel_names
from taskkit_sql.schema import build_tables

from .support import ON_EVERY_DATABASE, ON_POSTGRESQL, ON_SERVERS, plain_engine


def _receive(bridge: EventBridge, count: int, timeout: float = 15.0) -> list[object]:
    events: list[object] = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        events += bridge.receive_events(0.2)
    return events


@ON_SERVERS
def test_an_event_committed_after_a_newer_one_is_still_delivered(
    bridge: EventBridge, taskkit_open: OpenConnection, taskkit_url: str, taskkit_namespace: str
) -> None:
    sender = taskkit_open().bridge
    bridge.receive_events(0.01)
    events = build_tables(taskkit_namespace).events
    slow = make_event("pause", {"slow"})
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        conn.execute(events.insert().values(sent=time.time(), data=encode_control_event(slow)))
        if taskkit_url.startswith("postgresql"):  # a sender NOTIFYs in its transaction
            channel = channel_names(taskkit_namespace)[1]
            conn.execute(select(func.pg_notify(channel, "")))
        sender.send_event(make_event("resume", {"fast"}))  # a higher id, committed first
        assert _receive(bridge, 1) == [make_event("resume", {"fast"})]
        conn.commit()
    assert _receive(bridge, 1) == [slow]
    assert bridge.receive_events(0.3) == [], "each event is delivered once"


@ON_EVERY_DATABASE
def test_old_events_are_deleted_when_a_new_one_is_sent(
    bridge: EventBridge, taskkit_url: str, taskkit_namespace: str
) -> None:
    events = build_tables(taskkit_namespace).events
    old = encode_control_event(make_event("pause", None))
    with plain_engine(taskkit_url) as engine:
        with engine.begin() as conn:
            conn.execute(events.insert().values(sent=time.time() - 7200, data=old))
        bridge.send_event(make_event("resume", None))
        with engine.connect() as conn:
            kept = conn.execute(events.select()).all()
    assert [row.data for row in kept] == [encode_control_event(make_event("resume", None))]


@ON_POSTGRESQL
def test_the_listener_reconnects_after_its_connection_is_killed(
    backend: Backend, bridge: EventBridge, taskkit_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str] = []
    subscription = backend.watch_tasks(heard.append)
    try:
        bridge.receive_events(0.01)
        with plain_engine(taskkit_url) as engine, engine.begin() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN \"' || :channel || '%'"
                ),
                {"channel": f"{backend.namespace}_"},
            ).all()
        assert killed, "no LISTEN connection found"
        with caplog.at_level(logging.WARNING):
            groups = iter(range(1000))

            def heard_a_put() -> bool:
                backend.put_tasks(make_task(group=f"after-{next(groups)}"))
                return any(group.startswith("after-") for group in heard)

            wait_until(heard_a_put, timeout=15, interval=0.3)
        assert any("LISTEN connection" in r.getMessage() for r in caplog.records)
    finally:
        subscription.close()
