"""Control events are validated when made and when decoded."""

from __future__ import annotations

import pytest
from taskkit_core.events import decode_control_event, encode_control_event, make_event


def test_events_round_trip() -> None:
    event = make_event("pause", {"b", "a"})
    assert event == {"name": "pause", "groups": ["a", "b"]}
    assert decode_control_event(encode_control_event(event)) == event


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff",
        b"[]",
        b'{"name": "reboot", "groups": null}',
        b'{"name": "pause"}',
        b'{"name": "pause", "groups": "g"}',
        b'{"name": "pause", "groups": [1]}',
    ],
)
def test_malformed_events_decode_to_none(raw: bytes) -> None:
    assert decode_control_event(raw) is None


def test_unknown_event_names_and_bad_groups_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown control event"):
        make_event("reboot", None)
    with pytest.raises(ValueError, match="group"):
        make_event("pause", {""})
