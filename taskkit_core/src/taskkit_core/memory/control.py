"""Job control on memory://: cancel, retry, purge, read back and list tasks.

A mixin of :class:`~taskkit_core.memory.backend.MemoryBackend`: every
method takes the store's lock, so each is atomic against claims and
settles. A cancel request for a staged task is kept twice: on its entry
(for ``read_task``) and under its worker (so ``refresh_leases`` finds it
without looking at any other task).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

from ..clock import cur_ts
from ..records import (
    FINISHED_STATES,
    CancelResult,
    RetryResult,
    TaskInfo,
    TaskState,
    check_list_limit,
    check_purgeable,
)
from .store import CANCELLED, FAILED, QUEUED, STAGED, Entry, MemoryStore, Space

CANCELLED_QUEUED = "cancelled before it started"


class JobControl:
    """The job-control half of the memory backend."""

    _store: MemoryStore
    _space: Space
    _requeue: Callable[[Entry], None]  # MemoryBackend's: put an entry back in its queue

    # -- reading ---------------------------------------------------------------

    def read_task(self, task_id: str) -> TaskInfo | None:
        with self._store.lock:
            entry = self._space.tasks.get(task_id)
            return None if entry is None else _info(entry)

    def list_tasks(
        self,
        state: TaskState,
        group: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[TaskInfo]:
        state, limit = TaskState(state), check_list_limit(limit)
        with self._store.lock:
            found = [
                e
                for task_id, e in self._space.tasks.items()
                if e.state is state
                and (group is None or e.task.group == group)
                and (before is None or task_id < before)
            ]
            found.sort(key=lambda e: e.task.id, reverse=True)
            return [_info(e) for e in found[:limit]]

    # -- job control -------------------------------------------------------------

    def cancel_tasks(self, *task_ids: str) -> dict[str, CancelResult]:
        with self._store.lock:
            return {task_id: self._cancel_one(task_id) for task_id in task_ids}

    def _cancel_one(self, task_id: str) -> CancelResult:
        entry = self._space.tasks.get(task_id)
        if entry is None:
            return CancelResult.NOT_FOUND
        if entry.state is QUEUED:
            self._finish(entry, CANCELLED, CANCELLED_QUEUED)
            return CancelResult.CANCELLED
        if entry.state is STAGED:
            entry.cancel_requested = True
            self._space.cancel_requests.setdefault(entry.worker_id or "", set()).add(task_id)
            return CancelResult.REQUESTED
        return CancelResult.FINISHED

    def retry_tasks(self, *task_ids: str) -> dict[str, RetryResult]:
        with self._store.lock:
            return {task_id: self._retry_one(task_id) for task_id in task_ids}

    def _retry_one(self, task_id: str) -> RetryResult:
        entry = self._space.tasks.get(task_id)
        if entry is None:
            return RetryResult.NOT_FOUND
        if entry.state not in (FAILED, CANCELLED):
            return RetryResult.NOT_RETRYABLE
        entry.task = replace(entry.task, due=cur_ts(), retry_count=0)
        entry.attempt, entry.result, entry.done_at = 0, None, None
        self._requeue(entry)
        return RetryResult.QUEUED

    def purge_tasks(self, group: str, states: Collection[TaskState] = FINISHED_STATES) -> int:
        purgeable = check_purgeable(states)
        with self._store.lock:
            doomed = [
                task_id
                for task_id, e in self._space.tasks.items()
                if e.task.group == group and e.state in purgeable
            ]
            for task_id in doomed:
                self._forget(task_id)
            return len(doomed)

    # -- shared with the backend -------------------------------------------------

    def _finish(self, entry: Entry, state: TaskState, message: str) -> None:
        """End ``entry`` as failed or cancelled with ``message``, now."""
        entry.state, entry.done_at, entry.error, entry.result = state, cur_ts(), message, None

    def _drop_cancel_request(self, entry: Entry) -> None:
        if entry.cancel_requested:
            entry.cancel_requested = False
            requests = self._space.cancel_requests.get(entry.worker_id or "", set())
            requests.discard(entry.task.id)
            if not requests:
                self._space.cancel_requests.pop(entry.worker_id or "", None)

    def _forget(self, task_id: str) -> None:
        """Delete a task with its unique key and cancel request."""
        entry = self._space.tasks.pop(task_id, None)
        if entry is None:
            return
        self._drop_cancel_request(entry)
        unique = entry.task.unique
        slot = (entry.task.group, unique.key) if unique is not None else None
        if slot is not None and self._space.unique.get(slot) == task_id:
            del self._space.unique[slot]


def _info(entry: Entry) -> TaskInfo:
    return TaskInfo(
        task=entry.task,
        state=entry.state,
        attempt=entry.attempt,
        worker_id=entry.worker_id,
        began=entry.began,
        finished=entry.done_at,
        error=entry.error,
        result_size=None if entry.result is None else len(entry.result),
        cancel_requested=entry.cancel_requested,
    )
