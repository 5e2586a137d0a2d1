"""Task states and the strings that store them in a task hash's ``st`` field.

The one conversion between the two lives here: Python code compares
``TaskState`` members, the hash holds ``STORED[state]``, and the Lua
scripts get the same strings for their ``STATE_*`` names (see ``lua_layout``).
"""

from __future__ import annotations

from enum import StrEnum


# TODO(merge): use taskkit_core.TaskState once core defines it; only STORED stays here.
class TaskState(StrEnum):
    """Where a task is: queued (due or not), staged to a worker, or finished."""

    QUEUED = "queued"
    STAGED = "staged"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


STORED: dict[TaskState, str] = {
    TaskState.QUEUED: "queued",
    TaskState.STAGED: "staged",
    TaskState.SUCCEEDED: "succeeded",
    TaskState.FAILED: "failed",
}
"""The string each state is stored as."""

_READ: dict[bytes, TaskState] = {text.encode(): state for state, text in STORED.items()}


def read_state(stored: bytes | None) -> TaskState | None:
    """The state a task hash's ``st`` field holds; None when the task is gone."""
    return None if stored is None else _READ[stored]
