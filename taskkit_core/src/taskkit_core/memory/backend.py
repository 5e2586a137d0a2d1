"""The memory backend: the Backend protocol over dicts and heaps, for one process.

The job-control methods (cancel, retry, purge, read-back, listing) are in
``control``; the claim order lives in ``queue``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Any

from ..clock import cur_ts
from ..errors import Cancelled, ConfigurationError, Failed, NoResult, NotFound
from ..records import (
    AllCreated,
    Capabilities,
    Claim,
    GroupStats,
    Outcome,
    OutcomeKind,
    PutResult,
    StageInfo,
)
from ..task import Task
from .control import JobControl
from .locks import MemoryLock
from .queue import GroupQueue
from .store import CANCELLED, FAILED, QUEUED, STAGED, SUCCEEDED, Entry, MemoryStore, Space

CAPABILITIES = Capabilities(
    multi_process=False,
    push_wakeups=True,
    transactional_enqueue=False,
    server_clock=False,
    priorities=True,
    unique_tasks=True,
)


_COUNTS = ("queued", "due", "staged", "done", "failed", "cancelled")
_FINISHED_COUNT = {SUCCEEDED: "done", FAILED: "failed", CANCELLED: "cancelled"}


class _Watch:
    def __init__(self, store: MemoryStore, space: Space, callback: Callable[[str], None]):
        self._store, self._space, self._callback = store, space, callback

    def close(self) -> None:
        with self._store.lock:
            if self._callback in self._space.watchers:
                self._space.watchers.remove(self._callback)


class MemoryBackend(JobControl):
    """The Backend protocol over dicts and heaps, for one process."""

    capabilities = CAPABILITIES

    def __init__(self, url: str, store: MemoryStore, namespace: str) -> None:
        self.url = url
        self.namespace = namespace
        self._store = store
        self._space = store.space(namespace)

    def __repr__(self) -> str:
        return f"MemoryBackend({self.url!r}, namespace={self.namespace!r})"

    # -- leases ------------------------------------------------------------

    def refresh_leases(self, worker_ids: Collection[str], ttl: float) -> list[str]:
        expires = cur_ts() + ttl
        requested: list[str] = []
        with self._store.lock:
            for worker_id in worker_ids:
                self._space.leases[worker_id] = expires
                requested += self._space.cancel_requests.get(worker_id, ())
        return sorted(requested)

    def get_leases(self) -> list[tuple[str, float]]:
        with self._store.lock:
            return sorted(self._space.leases.items(), key=lambda item: item[1])

    def drop_leases(self, worker_ids: Collection[str]) -> None:
        with self._store.lock:
            for worker_id in worker_ids:
                self._space.leases.pop(worker_id, None)

    def purge_expired_leases(self) -> list[str]:
        now = cur_ts()
        with self._store.lock:
            dead = [w for w, expires in self._space.leases.items() if expires < now]
            for worker_id in dead:
                del self._space.leases[worker_id]
            return dead

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> Sequence[PutResult]:
        if connection is not None:
            raise ConfigurationError("memory:// cannot join an application transaction")
        with self._store.lock:
            now = cur_ts()
            refusals = [self._put_one(task, now) for task in tasks]
            watchers = list(self._space.watchers)
        for group in {task.group for task in tasks}:
            for callback in watchers:
                callback(group)
        if not any(refusals):
            return AllCreated(tasks)
        return [
            PutResult(task.id, True) if refusal is None else refusal
            for task, refusal in zip(tasks, refusals, strict=True)
        ]

    def _put_one(self, task: Task, now: float) -> PutResult | None:
        """Put ``task``; None when it was written, else the answer that says why not."""
        if task.id in self._space.tasks:
            return PutResult(task.id, False)
        if task.unique is not None:
            slot = (task.group, task.unique.key)
            holder = self._holder(slot, now)
            if holder is not None:
                return PutResult(holder, False)
            self._space.unique[slot] = task.id
        entry = self._space.tasks[task.id] = Entry(task)
        self._push(entry)
        return None

    def _holder(self, slot: tuple[str, str], now: float) -> str | None:
        """The id of the task holding the unique key ``slot``, if it still counts."""
        holder_id = self._space.unique.get(slot)
        entry = self._space.tasks.get(holder_id or "")
        if entry is None or entry.task.unique is None:
            return None
        unique = entry.task.unique
        if unique.covers(entry.state) and unique.in_period(entry.task.created, now):
            return holder_id
        return None

    def put_done_task(
        self, task: Task, *, result: bytes | None = None, error: str | None = None
    ) -> None:
        now = cur_ts()
        with self._store.lock:
            state = SUCCEEDED if result is not None else FAILED
            self._forget(task.id)
            self._space.tasks[task.id] = Entry(
                task, state=state, began=now, result=result, error=error, done_at=now
            )

    def _push(self, entry: Entry) -> None:
        entry.generation += 1
        queue = self._space.queues.get(entry.task.group)
        if queue is None:
            queue = self._space.queues[entry.task.group] = GroupQueue()
        queue.push(entry.task, entry.generation)

    def _is_current(self, task_id: str, generation: int) -> bool:
        entry = self._space.tasks.get(task_id)
        return entry is not None and entry.state is QUEUED and entry.generation == generation

    # -- claiming and settling ------------------------------------------------

    def claim_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        now = cur_ts()
        claims: list[Claim] = []
        with self._store.lock:
            queue = self._space.queues.get(group)
            while queue is not None and len(claims) < limit:
                task_id = queue.pop_due(now, self._is_current)
                if task_id is None:
                    break
                entry = self._space.tasks[task_id]
                entry.state, entry.worker_id, entry.began = STAGED, worker_id, now
                entry.attempt += 1
                claims.append(Claim(entry.task, worker_id, entry.attempt, now))
        return claims

    def settle(self, *outcomes: Outcome) -> list[bool]:
        with self._store.lock:
            return [self._settle_one(outcome) for outcome in outcomes]

    def _settle_one(self, outcome: Outcome) -> bool:
        claim = outcome.claim
        entry = self._space.tasks.get(claim.task.id)
        if (
            entry is None
            or entry.state is not STAGED
            or entry.worker_id != claim.worker_id
            or entry.attempt != claim.attempt
        ):
            return False
        now = cur_ts()
        self._drop_cancel_request(entry)
        match outcome.kind:
            case OutcomeKind.SUCCEEDED:
                entry.state, entry.done_at, entry.result = SUCCEEDED, now, outcome.result
                entry.error = None
            case OutcomeKind.FAILED:
                self._finish(entry, FAILED, outcome.message)
            case OutcomeKind.CANCELLED:
                self._finish(entry, CANCELLED, outcome.message)
            case OutcomeKind.RETRIED:
                entry.task = replace(
                    entry.task, due=now + outcome.delay, retry_count=entry.task.retry_count + 1
                )
                self._requeue(entry)
            case OutcomeKind.RELEASED:
                entry.attempt -= 1
                self._requeue(entry)
            case OutcomeKind.DISCARDED:
                self._forget(claim.task.id)
        return True

    def _requeue(self, entry: Entry) -> None:
        entry.state, entry.worker_id, entry.began = QUEUED, None, None
        self._push(entry)

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        now = cur_ts()
        restored: list[StageInfo] = []
        with self._store.lock:
            live = {w for w, expires in self._space.leases.items() if expires >= now}
            for info in self._stage_info():
                if len(restored) >= limit:
                    break
                if info.worker_id not in live:
                    self._restore(self._space.tasks[info.task_id])
                    restored.append(info)
        return restored

    def _restore(self, entry: Entry) -> None:
        if entry.cancel_requested:
            self._drop_cancel_request(entry)
            self._finish(entry, CANCELLED, "cancelled: its worker died before it stopped")
        else:
            self._requeue(entry)

    # -- reading -------------------------------------------------------------

    def lookup_tasks(self, *task_ids: str) -> dict[str, Task | None]:
        with self._store.lock:
            return {
                task_id: entry.task if (entry := self._space.tasks.get(task_id)) else None
                for task_id in task_ids
            }

    def get_queued_tasks(self, group: str, limit: int) -> list[Task]:
        with self._store.lock:
            queued = [
                e.task
                for e in self._space.tasks.values()
                if e.state is QUEUED and e.task.group == group
            ]
        return sorted(queued, key=lambda t: (-t.priority, t.due, t.id))[:limit]

    def get_result(self, task_id: str) -> tuple[Task, bytes]:
        with self._store.lock:
            entry = self._space.tasks.get(task_id)
            if entry is None:
                raise NotFound(f"no task with id {task_id!r}")
            if entry.state is FAILED:
                raise Failed(entry.task, entry.error or "")
            if entry.state is CANCELLED:
                raise Cancelled(entry.task, entry.error or "cancelled")
            if entry.state is not SUCCEEDED or entry.result is None:
                raise NoResult(entry.task)
            return entry.task, entry.result

    def get_done_task_ids(self, since: float | None, until: float | None, limit: int) -> list[str]:
        low = since if since is not None else float("-inf")
        high = until if until is not None else cur_ts()
        with self._store.lock:
            done = [
                (e.done_at, task_id)
                for task_id, e in self._space.tasks.items()
                if e.done_at is not None and low <= e.done_at <= high
            ]
        return [task_id for _, task_id in sorted(done)[:limit]]

    def get_disposable_task_ids(self, limit: int) -> list[str]:
        now = cur_ts()
        with self._store.lock:
            disposable = [
                (e.done_at + e.task.ttl, task_id)
                for task_id, e in self._space.tasks.items()
                if e.done_at is not None and e.done_at + e.task.ttl < now
            ]
        return [task_id for _, task_id in sorted(disposable)[:limit]]

    def get_stage_info(self, limit: int) -> list[StageInfo]:
        with self._store.lock:
            return self._stage_info()[:limit]

    def _stage_info(self) -> list[StageInfo]:
        staged = [
            StageInfo(e.worker_id or "", task_id, e.began or 0.0, e.attempt)
            for task_id, e in self._space.tasks.items()
            if e.state is STAGED
        ]
        return sorted(staged, key=lambda info: (info.began, info.task_id))

    def group_stats(self, since: float) -> list[GroupStats]:
        now = cur_ts()
        counts: dict[str, dict[str, Any]] = {}
        with self._store.lock:
            for e in self._space.tasks.values():
                c = counts.setdefault(e.task.group, dict.fromkeys(_COUNTS, 0) | {"oldest": None})
                if e.state is QUEUED:
                    c["queued"] += 1
                    if e.task.due <= now:
                        c["due"] += 1
                        c["oldest"] = min(c["oldest"] or e.task.due, e.task.due)
                elif e.state is STAGED:
                    c["staged"] += 1
                elif e.done_at is not None and e.done_at >= since:
                    c[_FINISHED_COUNT[e.state]] += 1
        return [
            GroupStats(
                group,
                c["queued"],
                c["due"],
                c["staged"],
                c["done"],
                c["failed"],
                c["oldest"],
                c["cancelled"],
            )
            for group, c in sorted(counts.items())
        ]

    # -- removing --------------------------------------------------------------

    def discard_tasks(self, *task_ids: str) -> None:
        with self._store.lock:
            for task_id in task_ids:
                self._forget(task_id)

    # -- scheduler -------------------------------------------------------------

    def persist_scheduler_state_and_put_tasks(
        self, name: str, data: bytes, *tasks: Task, expected: bytes | None = None
    ) -> bool:
        with self._store.lock:
            if self._space.scheduler.get(name) != expected:
                return False
            self._space.scheduler[name] = data
            self.put_tasks(*tasks)
            return True

    def get_scheduler_state(self, name: str) -> bytes | None:
        with self._store.lock:
            return self._space.scheduler.get(name)

    # -- coordination -----------------------------------------------------------

    def get_lock(self, target: str) -> MemoryLock:
        return MemoryLock(self._store, self._space, target)

    def watch_tasks(self, callback: Callable[[str], None]) -> _Watch:
        with self._store.lock:
            self._space.watchers.append(callback)
        return _Watch(self._store, self._space, callback)

    # -- lifecycle ----------------------------------------------------------------

    def destroy_all(self) -> None:
        with self._store.lock:
            space = self._space
            for table in (
                space.tasks,
                space.queues,
                space.unique,
                space.cancel_requests,
                space.leases,
                space.scheduler,
                space.locks,
            ):
                table.clear()
            space.events_dropped += len(space.events)
            space.events.clear()

    def close(self) -> None:
        return None
