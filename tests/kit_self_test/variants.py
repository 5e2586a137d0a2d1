"""Broken variants of memory://, each breaking one promise of plugins.md that the kit checks.

Every variant is the reference backend with one mistake a backend author
could plausibly make; ``test_broken_variants`` shows the kit test that
catches it. Each opener keeps its own store, named by its URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from taskkit_core.backend import Claim, Connection, Outcome, PutResult, StageInfo
from taskkit_core.clock import cur_ts
from taskkit_core.errors import InvalidTaskError
from taskkit_core.memory.backend import MemoryBackend
from taskkit_core.memory.events import MemoryEventBridge
from taskkit_core.memory.store import QUEUED, MemoryStore, Space
from taskkit_core.names import check_namespace
from taskkit_core.task import Task


class FoldingStore(MemoryStore):
    """Namespaces keyed by their lowered name, without the refusal: ``Ab`` opens ``ab``'s data.

    What SQLite (and MySQL with lower_case_table_names=1) does with table names.
    """

    def space(self, namespace: str) -> Space:
        with self.lock:
            return self.spaces.setdefault(namespace.lower(), Space(namespace))


class CounterResetBackend(MemoryBackend):
    """destroy_all starts the events' counter again, below every receiver's position."""

    def destroy_all(self) -> None:
        super().destroy_all()
        with self._store.lock:
            self._space.events_dropped = 0


class LapsingBridge(MemoryEventBridge):
    """A subscription that lapses: a receiver away for more than LAPSE s resumes from now.

    Like a pub/sub bridge whose connection was dropped while idle: it
    resubscribes, and what was published meanwhile is gone.
    """

    LAPSE = 1.0

    def __init__(self, store: MemoryStore, namespace: str) -> None:
        super().__init__(store, namespace)
        self._last_read = time.monotonic()

    def receive_events(self, timeout: float) -> list[Any]:
        if time.monotonic() - self._last_read > self.LAPSE:
            with self._store.lock:
                self._cursor = self._space.events_dropped + len(self._space.events)
        try:
            return super().receive_events(timeout)
        finally:
            self._last_read = time.monotonic()


class PartialPutBackend(MemoryBackend):
    """put_tasks stores task by task and checks each as it comes: a bad one stops it half-way."""

    def put_tasks(self, *tasks: Task, connection: Any = None) -> list[PutResult]:
        results: list[PutResult] = []
        for task in tasks:
            if not isinstance(task.data, bytes):
                raise InvalidTaskError(f"task {task.id}: data must be bytes")
            results += super().put_tasks(task, connection=connection)
        return results


class WriteLockedStore(MemoryStore):
    """A store whose writes also take a write lock, as a database's transactions do."""

    def __init__(self) -> None:
        super().__init__()
        self.write_lock = threading.Lock()


class HeldLockBackend(MemoryBackend):
    """claim_tasks keeps the write lock when it found tasks: a transaction left open.

    Writes wait up to WAIT s for the write lock, then fail, like SQLite's
    busy timeout ("database is locked").
    """

    WAIT = 15.0
    _store: WriteLockedStore

    def _begin(self) -> None:
        if not self._store.write_lock.acquire(timeout=self.WAIT):
            raise TimeoutError("the store is locked")

    def put_tasks(self, *tasks: Task, connection: Any = None) -> Sequence[PutResult]:
        self._begin()
        try:
            return super().put_tasks(*tasks, connection=connection)
        finally:
            self._store.write_lock.release()

    def claim_tasks(self, group: str, worker_id: str, limit: int = 1) -> list[Claim]:
        self._begin()
        claims = super().claim_tasks(group, worker_id, limit)
        if claims:
            return claims  # the early return skips the release below
        self._store.write_lock.release()
        return claims

    def settle(self, *outcomes: Outcome) -> list[bool]:
        self._begin()
        try:
            return super().settle(*outcomes)
        finally:
            self._store.write_lock.release()


class StaleRestoreBackend(MemoryBackend):
    """restore_abandoned in two steps: it copies the abandoned entries, then writes the copies back.

    Between the two (a round trip to a remote store) the worker may have
    come back and settled; the write-back undoes that.
    """

    def restore_abandoned(self, limit: int) -> list[StageInfo]:
        now = cur_ts()
        with self._store.lock:
            live = {w for w, expires in self._space.leases.items() if expires >= now}
            stages = [i for i in self._stage_info() if i.worker_id not in live][:limit]
            copies = [replace(self._space.tasks[i.task_id]) for i in stages]
        time.sleep(0.005)
        with self._store.lock:
            for entry in copies:
                entry.state, entry.worker_id, entry.began = QUEUED, None, None
                self._space.tasks[entry.task.id] = entry
                self._push(entry)
        return stages


Parts = tuple[type[MemoryBackend], type[MemoryEventBridge]]


def opener(make_store: Callable[[], MemoryStore], parts: Parts) -> Callable[..., Connection]:
    """An opener of memory-like URLs: a store per URL, and the given backend and bridge."""
    stores: dict[str, MemoryStore] = {}

    def open_variant(url: str, options: Mapping[str, Any]) -> Connection:
        namespace = check_namespace(options.get("namespace", "taskkit"))
        store = stores.setdefault(url, make_store())
        backend_class, bridge_class = parts
        return Connection(
            backend=backend_class(url, store, namespace), bridge=bridge_class(store, namespace)
        )

    return open_variant


SOUND: Parts = (MemoryBackend, MemoryEventBridge)

OPENERS: dict[str, Callable[..., Connection]] = {
    "broken-memory-folding": opener(FoldingStore, SOUND),
    "broken-memory-counter-reset": opener(MemoryStore, (CounterResetBackend, MemoryEventBridge)),
    "broken-memory-lapsing-events": opener(MemoryStore, (MemoryBackend, LapsingBridge)),
    "broken-memory-partial-put": opener(MemoryStore, (PartialPutBackend, MemoryEventBridge)),
    "broken-memory-held-lock": opener(WriteLockedStore, (HeldLockBackend, MemoryEventBridge)),
    "broken-memory-stale-restore": opener(MemoryStore, (StaleRestoreBackend, MemoryEventBridge)),
}
"""Each variant's URL scheme and opener."""
