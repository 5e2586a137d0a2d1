"""Control events (shutdown, pause, resume) and the event bridge that carries them.

Control events are stored, on every backend: a receiver that was briefly
disconnected while an event was sent still gets it once it reconnects, as
long as the event is within the backend's retention (each bridge states
it). A receiver created after an event was sent never sees it.
"""

from __future__ import annotations

import json
from typing import Literal, Protocol, TypedDict, cast

from .task import check_name, check_payload


class Shutdown(TypedDict):
    name: Literal["shutdown"]
    groups: list[str] | None


class Pause(TypedDict):
    name: Literal["pause"]
    groups: list[str] | None


class Resume(TypedDict):
    name: Literal["resume"]
    groups: list[str] | None


ControlEvent = Shutdown | Pause | Resume
"""An event for some groups (a list) or for all of them (None)."""

EVENT_NAMES = ("shutdown", "pause", "resume")


class EventBridge(Protocol):
    """Carries control events from any process to every worker process.

    Delivery is not best effort: events are stored, and every receiver
    reads each one once, in order, from its own position in the store.
    """

    def send_event(self, event: ControlEvent) -> None:
        """Store ``event``; returns once it is stored, so receivers can read it later."""
        ...

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        """The events sent since the previous call, oldest first, each once.

        Waits up to ``timeout`` seconds for one; an empty list when none
        came. The first call returns those sent since this bridge object was
        created. It may raise while the store is unreachable; the next call
        goes on from the same position, so events sent while this receiver
        was cut off are delivered once it reconnects, within the store's
        retention. An event sent before the bridge was created is never
        returned.
        """
        ...

    def close(self) -> None:
        """Release the bridge's connections; it is unusable afterwards."""
        ...


def make_event(name: str, groups: set[str] | list[str] | None) -> ControlEvent:
    """A validated control event; groups None means every group."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown control event {name!r}; expected one of {EVENT_NAMES}")
    group_list = None if groups is None else sorted(check_name("group", g) for g in groups)
    event: dict[str, object] = {"name": name, "groups": group_list}
    return cast(ControlEvent, event)


def encode_control_event(event: ControlEvent) -> bytes:
    """The event as JSON bytes; PayloadTooLarge above 10 MiB (a very long group list)."""
    return check_payload(json.dumps(event).encode("utf-8"), "control event")


def decode_control_event(encoded: bytes) -> ControlEvent | None:
    """The event, or None when ``encoded`` is not a well-formed control event."""
    try:
        event = json.loads(encoded.decode("utf-8"))
        name, groups = event["name"], event["groups"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if name not in EVENT_NAMES:
        return None
    if groups is not None and not (
        isinstance(groups, list) and all(isinstance(g, str) for g in groups)
    ):
        return None
    return cast(ControlEvent, {"name": name, "groups": groups})
