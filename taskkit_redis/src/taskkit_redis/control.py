"""Job control on Redis: cancel, retry and purge, each a script call (purge a bounded loop).

``cancel.lua`` and ``retry.lua`` decide every id in one step, atomic against
claims and settles; their answers are small codes turned into the core's
result enums here. ``purge.lua`` deletes at most ``PURGE_BATCH`` tasks per
call, so a purge of a million tasks never blocks the server for long.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from taskkit_core.backend import CancelResult, RetryResult, TaskState
from taskkit_core.records import check_purgeable

from .keys import Keys
from .states import STORED

if TYPE_CHECKING:
    from .scripts import Scripts

CANCELLED_QUEUED = "cancelled before it started"
"""The message of a task cancelled while queued."""

CANCELLED_ABANDONED = "cancelled: its worker died before it stopped"
"""The message of a task with a cancel request whose worker died (restore)."""

PURGE_BATCH = 500
"""Most tasks one purge.lua call deletes."""

_CANCEL_ANSWERS = (
    CancelResult.NOT_FOUND,
    CancelResult.CANCELLED,
    CancelResult.REQUESTED,
    CancelResult.FINISHED,
)
_RETRY_ANSWERS = (RetryResult.NOT_FOUND, RetryResult.QUEUED, RetryResult.NOT_RETRYABLE)


def cancel(scripts: Scripts, keys: Keys, task_ids: Collection[str]) -> dict[str, CancelResult]:
    """Cancel each task (see ``Backend.cancel_tasks``) in one script call."""
    if not task_ids:
        return {}
    codes = scripts.cancel(keys=[keys.groups], args=[keys.prefix, CANCELLED_QUEUED, *task_ids])
    return {task_id: _CANCEL_ANSWERS[code] for task_id, code in zip(task_ids, codes, strict=True)}


def retry(scripts: Scripts, keys: Keys, task_ids: Collection[str]) -> dict[str, RetryResult]:
    """Queue failed or cancelled tasks again (see ``Backend.retry_tasks``), one call."""
    if not task_ids:
        return {}
    codes = scripts.retry(keys=[keys.groups], args=[keys.prefix, *task_ids])
    return {task_id: _RETRY_ANSWERS[code] for task_id, code in zip(task_ids, codes, strict=True)}


def purge(scripts: Scripts, keys: Keys, group: str, states: Collection[TaskState]) -> int:
    """Delete the group's finished tasks in ``states``, PURGE_BATCH per call; how many."""
    deleted = 0
    for state in sorted(check_purgeable(states)):
        stored = STORED[state]
        index = keys.index(stored, group)
        while True:
            count, read = scripts.purge(
                keys=[index], args=[keys.prefix, stored, group, str(PURGE_BATCH)]
            )
            deleted += int(count)
            if not read:
                break
    return deleted
