"""Control events (shutdown, pause, resume) and the bridge that carries them."""

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

    ``send_event`` returns once the event is stored, so that receivers
    can still read it later. ``receive_events`` waits up to ``timeout``
    seconds and returns the events sent since this bridge object was
    created (first call) or since the previous call, oldest first, each
    once; an empty list when none came. It may raise when the store is
    unreachable; the next call goes on from the same position. So an
    event sent while a receiver is briefly disconnected is still delivered
    once it reconnects, within the store's retention (each bridge states
    it). An event sent before a bridge was created is never replayed to it.
    """

    def send_event(self, event: ControlEvent) -> None: ...

    def receive_events(self, timeout: float) -> list[ControlEvent]: ...

    def close(self) -> None: ...


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
