"""The EventBridge over Redis pub/sub: control events on the namespace's channel.

A bridge subscribes when it is created and waits for the server's
confirmation, so every event sent after that is received, in the order it
was published. Events are not stored: one sent while a receiver is
disconnected is missed (the EventBridge contract allows it), and one sent
before a receiver existed is never replayed. After a lost connection,
redis-py reconnects and subscribes again on the next receive.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from taskkit_core.events import ControlEvent, decode_control_event, encode_control_event

from .keys import Keys
from .pubsub import new_pubsub, subscribe

if TYPE_CHECKING:
    from redis import Redis


class RedisEventBridge:
    """Sends control events with PUBLISH; receives them on its own subscription."""

    def __init__(self, client: Redis, keys: Keys) -> None:
        self._client = client
        self._channel = keys.events
        self.namespace = keys.namespace
        self._pubsub = new_pubsub(client)
        try:
            subscribe(self._pubsub, self._channel)
        except BaseException:
            self._pubsub.close()
            raise

    def __repr__(self) -> str:
        return f"RedisEventBridge(namespace={self.namespace!r})"

    def send_event(self, event: ControlEvent) -> None:
        """Publish ``event`` to every bridge of this namespace subscribed now."""
        self._client.publish(self._channel, encode_control_event(event))

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        """Events published since the last call, oldest first; waits up to ``timeout`` s.

        Returns as soon as at least one event came (with any others already
        waiting), or an empty list after ``timeout``.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        events: list[ControlEvent] = []
        while True:
            wait = 0.0 if events else max(0.0, deadline - time.monotonic())
            message = self._pubsub.get_message(timeout=wait)
            if message is None:
                if events or time.monotonic() >= deadline:
                    return events
                continue
            if message["type"] == "message":
                event = decode_control_event(message["data"])
                if event is not None:
                    events.append(event)

    def close(self) -> None:
        """Unsubscribe and give the connection back."""
        self._pubsub.close()
