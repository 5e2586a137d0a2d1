"""Task states and the strings that store them in a task hash's ``st`` field.

The one conversion between the two lives here: Python code compares
``TaskState`` members, the hash holds ``STORED[state]``, and the Lua
scripts get the same strings for their ``STATE_*`` names (see ``lua_layout``).
"""

from __future__ import annotations

from taskkit_core import TaskState

STORED: dict[TaskState, str] = {
    TaskState.QUEUED: "queued",
    TaskState.STAGED: "staged",
    TaskState.SUCCEEDED: "succeeded",
    TaskState.FAILED: "failed",
    TaskState.CANCELLED: "cancelled",
}
"""The string each state is stored as."""

_READ: dict[bytes, TaskState] = {text.encode(): state for state, text in STORED.items()}


def read_state(stored: bytes | None) -> TaskState | None:
    """The state a task hash's ``st`` field holds; None when the task is gone."""
    return None if stored is None else _READ[stored]
