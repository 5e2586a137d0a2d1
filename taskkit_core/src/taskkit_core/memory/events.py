"""Control events of memory://, kept in the store; receivers wait on its condition."""

from __future__ import annotations

from ..events import ControlEvent, decode_control_event, encode_control_event
from .store import MemoryStore

MAX_KEPT_EVENTS = 1000
"""The retention: a receiver that falls further behind misses the oldest events."""


class MemoryEventBridge:
    """Control events kept in the store; receivers wait on its condition."""

    def __init__(self, store: MemoryStore, namespace: str) -> None:
        self._store = store
        self._space = store.space(namespace)
        with store.lock:
            self._cursor = self._space.events_dropped + len(self._space.events)

    def send_event(self, event: ControlEvent) -> None:
        with self._store.lock:
            self._space.events.append(encode_control_event(event))
            overflow = len(self._space.events) - MAX_KEPT_EVENTS
            if overflow > 0:
                del self._space.events[:overflow]
                self._space.events_dropped += overflow
            self._store.lock.notify_all()

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        space = self._space
        with self._store.lock:
            self._store.lock.wait_for(
                lambda: space.events_dropped + len(space.events) > self._cursor, timeout
            )
            start = max(0, self._cursor - space.events_dropped)
            raw = space.events[start:]
            self._cursor = space.events_dropped + len(space.events)
        return [event for data in raw if (event := decode_control_event(data)) is not None]

    def close(self) -> None:
        return None
