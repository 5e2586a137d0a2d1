"""The EventBridge over a Redis Stream: control events kept under the namespace.

``send_event`` appends the event to the namespace's stream (``XADD``,
capped at about MAX_KEPT_EVENTS entries) and renews the stream's expiry of
RETENTION seconds, in one script (``lua/send_event.lua``). A bridge remembers the id of the
last entry it delivered and reads past it with ``XREAD BLOCK``, so
receivers wake as soon as an event is added, and a receiver that was cut
off (or was not reading) gets what was sent meanwhile from its next read,
in order, as long as the stream still holds it. A new bridge starts after
the newest entry that exists when it is created: older events are never
replayed.

Entry ids come from the server's clock. A stream deleted (``destroy_all``,
``drop``, expiry) and created again starts one millisecond past the clock,
above every id the old one gave out, so receivers' positions stay below
its entries. Should the server's clock go back, a new stream could still
start below a position: a read that brings nothing also looks at the
newest entry, and when it lies below the position the stream is read from
its start. A lost
connection surfaces as an error of ``receive_events`` (the worker backs
off and calls again); the position is kept, so nothing is skipped.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from taskkit_core.events import ControlEvent, decode_control_event, encode_control_event

from .keys import Keys
from .scripts import script_text

if TYPE_CHECKING:
    from .client import RedisClient

MAX_KEPT_EVENTS = 1000
"""About how many events the stream keeps (``XADD MAXLEN ~``): a receiver
further behind than that misses the oldest ones."""

RETENTION = 3600.0
"""Seconds the stream lives after the last event was sent (then Redis deletes it)."""

READ_SLICE = 1.0
"""Longest ``XREAD BLOCK`` in seconds (kept below half the client's socket timeout)."""

READ_BATCH = 100
"""Most entries one read returns; the rest come with the next call."""

DATA_FIELD = b"e"
"""The stream entry field that holds the encoded event."""


class RedisEventBridge:
    """Sends control events with XADD; receives them with XREAD from its last id."""

    def __init__(
        self, client: RedisClient, keys: Keys, socket_timeout: float | None = None
    ) -> None:
        self._client = client
        self._stream = keys.events
        self._prefix = keys.prefix
        self._send = client.register_script(script_text("send_event"))
        self.namespace = keys.namespace
        self._lock = threading.Lock()
        self._slice = READ_SLICE if not socket_timeout else min(READ_SLICE, socket_timeout / 2)
        newest: Any = client.xrevrange(self._stream, count=1)
        self._last_id: bytes = _as_bytes(newest[0][0]) if newest else b"0-0"

    def __repr__(self) -> str:
        return f"RedisEventBridge(namespace={self.namespace!r})"

    def send_event(self, event: ControlEvent) -> None:
        """Append ``event`` to the stream; returns once Redis stored it."""
        self._send(
            keys=[self._stream],
            args=[
                self._prefix,
                DATA_FIELD,
                encode_control_event(event),
                MAX_KEPT_EVENTS,
                int(RETENTION * 1000),
            ],
        )

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        """Events sent since the last delivered one, oldest first; waits up to ``timeout`` s.

        Returns as soon as a read brings at least one event, or an empty
        list after ``timeout``. Raises on a connection error; the next call
        reads from the same position.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            while True:
                block_ms = int(min(deadline - time.monotonic(), self._slice) * 1000)
                streams: dict[Any, Any] = {self._stream: self._last_id}
                if block_ms > 0:
                    reply: Any = self._client.xread(streams, count=READ_BATCH, block=block_ms)
                else:  # BLOCK 0 would wait for ever
                    reply = self._client.xread(streams, count=READ_BATCH)
                events = self._take(reply)
                if not events and self._stream_was_recreated():
                    self._last_id = b"0-0"
                    continue
                if events or block_ms <= 0:
                    return events

    def close(self) -> None:
        """Nothing to release: reads borrow pooled connections."""
        return None

    def _stream_was_recreated(self) -> bool:
        """Whether the stream's newest entry lies below the position (a new stream)."""
        if self._last_id == b"0-0":
            return False
        newest: Any = self._client.xrevrange(self._stream, count=1)
        return bool(newest) and _id_key(_as_bytes(newest[0][0])) < _id_key(self._last_id)

    def _take(self, reply: Any) -> list[ControlEvent]:
        """Decode an XREAD reply and move past its entries (undecodable ones too)."""
        events: list[ControlEvent] = []
        for entry_id, fields in _entries(reply):
            self._last_id = _as_bytes(entry_id)
            data = _field(fields)
            event = decode_control_event(data) if data is not None else None
            if event is not None:
                events.append(event)
        return events


def _entries(reply: Any) -> list[tuple[Any, Any]]:
    """The (id, fields) pairs of a one-stream XREAD reply (RESP2 list or RESP3 dict)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        (entries,) = reply.values()
        return [tuple(entry) for entry in entries[0]] if entries else []
    ((_, entries),) = reply
    return [(entry_id, fields) for entry_id, fields in entries]


def _field(fields: Any) -> bytes | None:
    """The encoded event of an entry's fields, whether the client decodes replies or not."""
    if not isinstance(fields, dict):
        return None
    data = fields.get(DATA_FIELD, fields.get(DATA_FIELD.decode()))
    if isinstance(data, str):
        return data.encode("utf-8")
    return data if isinstance(data, bytes) else None


def _id_key(entry_id: bytes) -> tuple[int, int]:
    """A stream entry id (``ms-seq``) as numbers, for comparing."""
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("ascii")
