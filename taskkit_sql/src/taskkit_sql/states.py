"""Task states: the core's words at the edge, small integers in ``tasks.state``.

The column stores QUEUED (0), STAGED (1), SUCCEEDED (2), CANCELLED (3)
and FAILED (4); every finished state is 2 or more, so "finished" is one
range (``state >= 2``) that the partial indexes on finished tasks share.
Schema revision 0001 stored both finished states as 2 and told a failed
task by its missing result; revision 0002 moves those rows to 4.

This module is the one place that converts between those numbers and
:class:`TaskState`; statements render the numbers as literals (see
``statements.state_is``), so PostgreSQL and SQLite can match their
partial indexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from taskkit_core import TaskState

STORED: Mapping[TaskState, int] = {
    TaskState.QUEUED: 0,
    TaskState.STAGED: 1,
    TaskState.SUCCEEDED: 2,
    TaskState.CANCELLED: 3,
    TaskState.FAILED: 4,
}
"""The ``tasks.state`` value of each state."""

_BY_NUMBER: Mapping[int, TaskState] = {number: state for state, number in STORED.items()}

QUEUED = STORED[TaskState.QUEUED]
STAGED = STORED[TaskState.STAGED]
SUCCEEDED = STORED[TaskState.SUCCEEDED]
CANCELLED = STORED[TaskState.CANCELLED]
FAILED = STORED[TaskState.FAILED]

FINISHED_FROM = SUCCEEDED
"""Every finished state is stored as this number or a larger one."""


def task_state(stored: int) -> TaskState:
    """The state of a row, from its ``state`` column."""
    return _BY_NUMBER[int(stored)]


def stored_states(states: Iterable[TaskState | str]) -> list[int]:
    """The stored numbers of TaskStates (or their string values), sorted, each once."""
    return sorted({STORED[TaskState(state)] for state in states})
