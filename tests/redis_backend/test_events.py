"""The control-event stream: bounded, expiring, read from each bridge's own position."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import redis
from taskkit_core.events import encode_control_event, make_event
from taskkit_core.testing import make_task, wait_until
from taskkit_redis.keys import Keys

from taskkit_redis import events as redis_events

OpenConnection = Callable[..., Any]


def test_the_stream_is_capped_and_expires(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    bridge = open_connection().bridge
    stream = Keys(namespace).events
    assert stream.startswith(f"{{{namespace}}}:")
    for _ in range(redis_events.MAX_KEPT_EVENTS + 300):
        bridge.send_event(make_event("pause", None))
    length = raw.xlen(stream)
    assert redis_events.MAX_KEPT_EVENTS <= length < redis_events.MAX_KEPT_EVENTS + 300
    assert 0 < raw.pttl(stream) <= redis_events.RETENTION * 1000


def test_a_receiver_that_did_not_read_for_a_while_gets_every_event_in_order(
    open_connection: OpenConnection,
) -> None:
    receiver, sender = open_connection().bridge, open_connection().bridge
    sent = [make_event("pause", [f"g{i}"]) for i in range(250)]  # more than one read's batch
    for event in sent:
        sender.send_event(event)
    got: list[Any] = []
    while batch := receiver.receive_events(0.2):
        got += batch
    assert got == sent


def test_a_stream_created_again_below_the_receivers_position_is_read_from_its_start(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    """Deleted and created again within one millisecond, the new stream's ids start lower."""
    receiver, sender = open_connection().bridge, open_connection().bridge
    stream = Keys(namespace).events
    sender.send_event(make_event("pause", None))
    assert wait_until(lambda: receiver.receive_events(0.2), 10) == [make_event("pause", None)]
    raw.delete(stream)
    encoded = encode_control_event(make_event("shutdown", None))
    raw.xadd(stream, {redis_events.DATA_FIELD: encoded}, id="1-0")  # as if the clock went back
    assert receiver.receive_events(2) == [make_event("shutdown", None)]
    sender.send_event(make_event("resume", None))
    assert receiver.receive_events(2) == [make_event("resume", None)]


def test_an_undecodable_entry_is_skipped(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    receiver, sender = open_connection().bridge, open_connection().bridge
    raw.xadd(Keys(namespace).events, {b"e": b"not json"})
    sender.send_event(make_event("resume", None))
    assert wait_until(lambda: receiver.receive_events(0.2), 10) == [make_event("resume", None)]


def test_wake_ups_still_arrive_while_a_receiver_blocks_on_events(
    open_connection: OpenConnection,
) -> None:
    connection = open_connection()
    heard: list[str] = []
    subscription = connection.backend.watch_tasks(heard.append)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            connection.bridge.receive_events(0.5)

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    try:
        open_connection().backend.put_tasks(make_task(group="woken"))
        wait_until(lambda: "woken" in heard, 10)
    finally:
        stop.set()
        receiver.join(5)
        subscription.close()
