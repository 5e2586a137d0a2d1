"""Control events: the EventBridge between connections, and pause/resume/shutdown through a Kit.

Events are stored: a receiver that was away while events were sent gets
them when it reads again, and a receiver's position keeps working when
its namespace is emptied (``destroy_all``) or dropped and migrated again,
which restarts many storages' counters.
"""

from __future__ import annotations

import time
from typing import Any

from ...events import EventBridge, make_event
from ...kit import Kit
from ...opening import drop, migrate
from ..support import (
    RecordingHandler,
    Start,
    wait_until,
)


class EventBridgeContract:
    """send_event / receive_events."""

    def test_a_sent_event_is_received(self, bridge: EventBridge, taskkit_open: Any) -> None:
        sender = taskkit_open().bridge
        bridge.receive_events(0.01)  # make sure the receiver is listening
        sender.send_event(make_event("pause", {"g"}))
        events = _receive(bridge, 1)
        assert events == [{"name": "pause", "groups": ["g"]}]

    def test_events_arrive_in_order(self, bridge: EventBridge, taskkit_open: Any) -> None:
        sender = taskkit_open().bridge
        bridge.receive_events(0.01)
        sent = [
            make_event("pause", None),
            make_event("resume", ["a", "b"]),
            make_event("shutdown", None),
        ]
        for event in sent:
            sender.send_event(event)
        assert _receive(bridge, 3) == sent

    def test_every_receiver_gets_the_event(self, bridge: EventBridge, taskkit_open: Any) -> None:
        receivers = [bridge, taskkit_open().bridge, taskkit_open().bridge]
        for receiver in receivers:
            receiver.receive_events(0.01)
        bridge.send_event(make_event("shutdown", None))
        for receiver in receivers:
            assert _receive(receiver, 1) == [{"name": "shutdown", "groups": None}]

    def test_receive_waits_at_most_its_timeout(self, bridge: EventBridge) -> None:
        start = time.monotonic()
        assert bridge.receive_events(0.3) == []
        assert time.monotonic() - start < 3

    def test_events_stay_in_their_namespace(
        self, bridge: EventBridge, taskkit_open: Any, taskkit_namespace: str
    ) -> None:
        elsewhere = taskkit_open(namespace=f"{taskkit_namespace}_b").bridge
        elsewhere.receive_events(0.01)
        bridge.send_event(make_event("pause", None))
        assert elsewhere.receive_events(1.0) == []

    def test_events_sent_before_a_receiver_existed_are_not_replayed(
        self, bridge: EventBridge, taskkit_open: Any
    ) -> None:
        bridge.send_event(make_event("shutdown", None))
        time.sleep(0.1)
        late = taskkit_open().bridge
        assert late.receive_events(0.5) == []

    def test_events_sent_while_a_receiver_was_away_arrive(
        self, bridge: EventBridge, taskkit_open: Any
    ) -> None:
        sender = taskkit_open().bridge
        bridge.receive_events(0.01)
        time.sleep(AWAY)  # the receiver neither reads nor waits: cut off, or busy
        sent = [make_event("pause", None), make_event("resume", ["g"])]
        for event in sent:
            sender.send_event(event)
            time.sleep(AWAY / 2)
        assert _receive(bridge, 2) == sent

    def test_events_arrive_after_destroy_all(self, bridge: EventBridge, taskkit_open: Any) -> None:
        sender = taskkit_open()
        _send_and_receive_three(sender.bridge, bridge)
        sender.backend.destroy_all()
        sender.bridge.send_event(make_event("shutdown", None))
        assert _receive(bridge, 1) == [{"name": "shutdown", "groups": None}]

    def test_events_arrive_after_drop_and_migrate(
        self,
        bridge: EventBridge,
        taskkit_open: Any,
        taskkit_url: str,
        taskkit_namespace: str,
        taskkit_options: dict[str, Any],
    ) -> None:
        _send_and_receive_three(taskkit_open().bridge, bridge)
        options = {**taskkit_options, "namespace": taskkit_namespace}
        drop(taskkit_url, **options)  # an operator resets the namespace; workers keep running
        migrate(taskkit_url, **options)
        taskkit_open().bridge.send_event(make_event("shutdown", None))
        assert _receive(bridge, 1) == [{"name": "shutdown", "groups": None}]


class ControlEventContract:
    """Pause, resume and shutdown events reaching worker threads."""

    def test_pause_and_resume(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        runtime = start_threads({"g": 2, "h": 1})
        kit.send_pause_event({"g"})
        wait_until(lambda: runtime.pools["g"].paused)
        paused = kit.initiate_task("g", "echo", 1)
        other = kit.initiate_task("h", "echo", 2)
        assert other.get(timeout=10) == 2, "an unpaused group keeps working"
        time.sleep(0.6)
        assert handler.ran(paused.task_id) == []
        kit.send_resume_event()
        assert paused.get(timeout=10) == 1

    def test_shutdown_event_stops_the_workers(self, kit: Kit, start_threads: Start) -> None:
        runtime = start_threads({"g": 2})
        kit.send_shutdown_event()
        assert runtime.wait(timeout=15)

    def test_shutdown_of_one_group_leaves_the_others(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        runtime = start_threads({"g": 1, "h": 1})
        kit.send_shutdown_event({"g"})
        wait_until(lambda: not runtime.pools["g"].claiming)
        stopped = kit.initiate_task("g", "echo", 1)
        working = kit.initiate_task("h", "echo", 2)
        assert working.get(timeout=10) == 2
        assert not runtime.stopped
        assert handler.ran(stopped.task_id) == []
        kit.send_shutdown_event({"h"})
        assert runtime.wait(timeout=15)


AWAY = 1.5
"""Seconds a receiver stays away: longer than any bridge's wait or keep-alive in the kit."""


def _send_and_receive_three(sender: EventBridge, receiver: EventBridge) -> None:
    """Move the receiver's position past three events (so a counter that restarts is below it)."""
    receiver.receive_events(0.01)
    for _ in range(3):
        sender.send_event(make_event("pause", ["g"]))
    assert len(_receive(receiver, 3)) == 3


def _receive(bridge: EventBridge, count: int, timeout: float = 10.0) -> list[Any]:
    events: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        events += bridge.receive_events(0.2)
    return events
