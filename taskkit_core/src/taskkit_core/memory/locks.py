"""Locks of memory://: owned by the lock object that took them, until it releases."""

from __future__ import annotations

from .store import MemoryStore, Space


class MemoryLock:
    """A non-blocking lock owned by this object until released."""

    def __init__(self, store: MemoryStore, space: Space, target: str) -> None:
        self._store, self._space, self._target = store, space, target

    def acquire(self) -> bool:
        with self._store.lock:
            owner = self._space.locks.setdefault(self._target, self)
            return owner is self

    def release(self) -> None:
        with self._store.lock:
            if self._space.locks.get(self._target) is self:
                del self._space.locks[self._target]
