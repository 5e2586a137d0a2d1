"""The memory backend, its event bridge and its locks."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..backend import (
    Capabilities,
    Claim,
    Connection,
    GroupStats,
    Outcome,
    OutcomeKind,
    StageInfo,
)
from ..clock import cur_ts
from ..errors import ConfigurationError, Failed, NoResult, NotFound
from ..events import ControlEvent, decode_control_event, encode_control_event
from ..names import check_namespace
from ..task import Task

CAPABILITIES = Capabilities(
    multi_process=False, push_wakeups=True, transactional_enqueue=False, server_clock=False
)

MAX_KEPT_EVENTS = 1000

State = Literal["queued", "staged", "done"]


@dataclass(slots=True)
class _Entry:
    """A task and where it is in its life."""

    task: Task
    state: State = "queued"
    attempt: int = 0
    worker_id: str | None = None
    began: float | None = None
    result: bytes | None = None
    error: str | None = None
    done_at: float | None = None


@dataclass
class _Space:
    """Everything stored under one namespace."""

    tasks: dict[str, _Entry] = field(default_factory=dict)
    queues: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    workers: dict[str, float] = field(default_factory=dict)
    scheduler: dict[str, bytes] = field(default_factory=dict)
    locks: dict[str, object] = field(default_factory=dict)
    events: list[bytes] = field(default_factory=list)
    events_dropped: int = 0
    watchers: list[Callable[[str], None]] = field(default_factory=list)


class MemoryStore:
    """One named store (``memory://name``): namespaces behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Condition(threading.RLock())
        self.spaces: dict[str, _Space] = {}

    def space(self, namespace: str) -> _Space:
        return self.spaces.setdefault(namespace, _Space())


_STORES: dict[str, MemoryStore] = {}
_STORES_LOCK = threading.Lock()


def _store_named(name: str) -> MemoryStore:
    with _STORES_LOCK:
        return _STORES.setdefault(name, MemoryStore())


def open_memory(url: str, namespace: str = "taskkit", **options: Any) -> Connection:
    """Open ``memory://[name]``: connections to the same name share their data."""
    if options:
        raise ConfigurationError(f"memory:// takes no option(s) {', '.join(sorted(options))}")
    check_namespace(namespace)
    store = _store_named(url.removeprefix("memory://").strip("/"))
    return Connection(
        backend=MemoryBackend(url, store, namespace),
        bridge=MemoryEventBridge(store, namespace),
    )


class MemoryLock:
    """A non-blocking lock owned by this object until released."""

    def __init__(self, store: MemoryStore, space: _Space, target: str) -> None:
        self._store, self._space, self._target = store, space, target

    def acquire(self) -> bool:
        with self._store.lock:
            owner = self._space.locks.setdefault(self._target, self)
            return owner is self

    def release(self) -> None:
        with self._store.lock:
            if self._space.locks.get(self._target) is self:
                del self._space.locks[self._target]


class _Watch:
    def __init__(self, store: MemoryStore, space: _Space, callback: Callable[[str], None]):
        self._store, self._space, self._callback = store, space, callback

    def close(self) -> None:
        with self._store.lock:
            if self._callback in self._space.watchers:
                self._space.watchers.remove(self._callback)


class MemoryBackend:
    """The Backend protocol over dicts and heaps, for one process."""

    capabilities = CAPABILITIES

    def __init__(self, url: str, store: MemoryStore, namespace: str) -> None:
        self.url = url
        self.namespace = namespace
        self._store = store
        self._space = store.space(namespace)

    def __repr__(self) -> str:
        return f"MemoryBackend({self.url!r}, namespace={self.namespace!r})"

    # -- workers -----------------------------------------------------------

    def set_worker_ttl(self, worker_ids: Collection[str], ttl: float) -> None:
        expires = cur_ts() + ttl
        with self._store.lock:
            for worker_id in worker_ids:
                self._space.workers[worker_id] = expires

    def get_workers(self) -> list[tuple[str, float]]:
        with self._store.lock:
            return sorted(self._space.workers.items(), key=lambda item: item[1])

    def purge_workers(self, worker_ids: Collection[str]) -> None:
        with self._store.lock:
            for worker_id in worker_ids:
                self._space.workers.pop(worker_id, None)

    def purge_dead_workers(self) -> list[str]:
        now = cur_ts()
        with self._store.lock:
            dead = [w for w, expires in self._space.workers.items() if expires < now]
            for worker_id in dead:
                del self._space.workers[worker_id]
            return dead

    # -- putting tasks in --------------------------------------------------

    def put_tasks(self, *tasks: Task, connection: Any = None) -> None:
        if connection is not None:
            raise ConfigurationError("memory:// cannot join an application transaction")
        with self._store.lock:
            for task in tasks:
                if task.id not in self._space.tasks:
                    self._space.tasks[task.id] = _Entry(task)
                    self._push(task)
            watchers = list(self._space.watchers)
        for group in {task.group for task in tasks}:
            for callback in watchers:
                callback(group)

    def put_done_task(
        self, task: Task, *, result: bytes | None = None, error: str | None = None
    ) -> None:
        now = cur_ts()
        with self._store.lock:
            self._space.tasks[task.id] = _Entry(
                task, state="done", began=now, result=result, error=error, done_at=now
            )

    def _push(self, task: Task) -> None:
        heapq.heappush(self._space.queues.setdefault(task.group, []), (task.due, task.id))

    # -- assignment ----------------------------------------------------------

    def assign_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        now = cur_ts()
        claims: list[Claim] = []
        with self._store.lock:
            heap = self._space.queues.get(group, [])
            while heap and len(claims) < limit:
                due, task_id = heap[0]
                entry = self._space.tasks.get(task_id)
                if entry is None or entry.state != "queued" or entry.task.due != due:
                    heapq.heappop(heap)  # a stale heap slot
                    continue
                if due > now:
                    break
                heapq.heappop(heap)
                entry.state, entry.worker_id, entry.began = "staged", worker_id, now
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
            or entry.state != "staged"
            or entry.worker_id != claim.worker_id
            or entry.attempt != claim.attempt
        ):
            return False
        now = cur_ts()
        match outcome.kind:
            case OutcomeKind.SUCCEEDED | OutcomeKind.FAILED:
                entry.state, entry.done_at = "done", now
                if outcome.kind is OutcomeKind.SUCCEEDED:
                    entry.result = outcome.result
                else:
                    entry.error = outcome.message
            case OutcomeKind.RETRIED:
                entry.task = replace(
                    entry.task, due=now + outcome.delay, retry_count=entry.task.retry_count + 1
                )
                self._requeue(entry)
            case OutcomeKind.RELEASED:
                entry.attempt -= 1
                self._requeue(entry)
            case OutcomeKind.DISCARDED:
                del self._space.tasks[claim.task.id]
        return True

    def _requeue(self, entry: _Entry) -> None:
        entry.state, entry.worker_id, entry.began = "queued", None, None
        self._push(entry.task)

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        now = cur_ts()
        restored: list[StageInfo] = []
        with self._store.lock:
            live = {w for w, expires in self._space.workers.items() if expires >= now}
            for info in self._stage_info():
                if len(restored) >= limit:
                    break
                if info.worker_id not in live:
                    self._requeue(self._space.tasks[info.task_id])
                    restored.append(info)
        return restored

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
                if e.state == "queued" and e.task.group == group
            ]
        return sorted(queued, key=lambda t: (t.due, t.id))[:limit]

    def get_result(self, task_id: str) -> tuple[Task, bytes]:
        with self._store.lock:
            entry = self._space.tasks.get(task_id)
            if entry is None:
                raise NotFound(f"no task with id {task_id!r}")
            if entry.state != "done":
                raise NoResult(entry.task)
            if entry.result is None:
                raise Failed(entry.task, entry.error or "")
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
            if e.state == "staged"
        ]
        return sorted(staged, key=lambda info: (info.began, info.task_id))

    def group_stats(self, since: float) -> list[GroupStats]:
        now = cur_ts()
        counts: dict[str, dict[str, Any]] = {}
        with self._store.lock:
            for e in self._space.tasks.values():
                c = counts.setdefault(
                    e.task.group,
                    {"queued": 0, "due": 0, "in_flight": 0, "done": 0, "failed": 0, "oldest": None},
                )
                if e.state == "queued":
                    c["queued"] += 1
                    if e.task.due <= now:
                        c["due"] += 1
                        c["oldest"] = min(c["oldest"] or e.task.due, e.task.due)
                elif e.state == "staged":
                    c["in_flight"] += 1
                elif e.done_at is not None and e.done_at >= since:
                    c["done" if e.result is not None else "failed"] += 1
        return [
            GroupStats(
                group, c["queued"], c["due"], c["in_flight"], c["done"], c["failed"], c["oldest"]
            )
            for group, c in sorted(counts.items())
        ]

    # -- removing --------------------------------------------------------------

    def discard_tasks(self, *task_ids: str) -> None:
        with self._store.lock:
            for task_id in task_ids:
                self._space.tasks.pop(task_id, None)

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
            for table in (space.tasks, space.queues, space.workers, space.scheduler, space.locks):
                table.clear()
            space.events_dropped += len(space.events)
            space.events.clear()

    def close(self) -> None:
        return None


class MemoryEventBridge:
    """Control events kept in the store; receivers wait on its condition."""

    def __init__(self, store: MemoryStore, namespace: str) -> None:
        self._store = store
        self._space = store.space(namespace)
        with store.lock:
            self._cursor = self._space.events_dropped + len(self._space.events)

    def send_event(self, event: ControlEvent) -> None:
        with self._store.lock:
            self._space.events.append(encode_control_event(event))
            overflow = len(self._space.events) - MAX_KEPT_EVENTS
            if overflow > 0:
                del self._space.events[:overflow]
                self._space.events_dropped += overflow
            self._store.lock.notify_all()

    def receive_events(self, timeout: float) -> list[ControlEvent]:
        space = self._space
        with self._store.lock:
            self._store.lock.wait_for(
                lambda: space.events_dropped + len(space.events) > self._cursor, timeout
            )
            start = max(0, self._cursor - space.events_dropped)
            raw = space.events[start:]
            self._cursor = space.events_dropped + len(space.events)
        return [event for data in raw if (event := decode_control_event(data)) is not None]

    def close(self) -> None:
        return None
