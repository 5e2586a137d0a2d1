"""Task states: the core's words at the edge, small integers in ``tasks.state``.

The column stores QUEUED (0), STAGED (1) and DONE (2); a done task
succeeded when it has a result and failed when it has none. This module is
the one place that converts between those numbers and :class:`TaskState`;
statements render the numbers as literals (see ``statements.state_is``).
"""

from __future__ import annotations

from collections.abc import Mapping

from taskkit_core import TaskState

STORED: Mapping[TaskState, int] = {
    TaskState.QUEUED: 0,
    TaskState.STAGED: 1,
    TaskState.SUCCEEDED: 2,
    TaskState.FAILED: 2,
}
"""The ``tasks.state`` value of each state (both finished states are DONE)."""

QUEUED = STORED[TaskState.QUEUED]
STAGED = STORED[TaskState.STAGED]
DONE = STORED[TaskState.SUCCEEDED]

FINISHED = frozenset({TaskState.SUCCEEDED, TaskState.FAILED})


def task_state(stored: int, has_result: bool) -> TaskState:
    """The state of a row: its ``state`` column, and whether its ``result`` is set."""
    if stored == QUEUED:
        return TaskState.QUEUED
    if stored == STAGED:
        return TaskState.STAGED
    return TaskState.SUCCEEDED if has_result else TaskState.FAILED
