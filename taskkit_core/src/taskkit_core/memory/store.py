"""Where memory:// keeps its data: named stores of namespaces, each behind one lock.

``memory://name`` names a store of this process; every connection to the
same name shares it. A store holds one :class:`Space` per namespace: the
tasks with their states, the queues, the unique keys, pending cancel
requests, the leases, scheduler states, locks, control events and wake-up
callbacks. Spaces are keyed by the namespace compared without case
(``names.namespace_key``) and remember the exact name that made them, so a
case variant of a namespace in use is refused, as on every backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..names import check_same_namespace, namespace_key
from ..records import TaskState
from ..task import Task
from .queue import GroupQueue

# The states as module constants: the claim loop compares them for every task.
QUEUED, STAGED, SUCCEEDED, FAILED, CANCELLED = (
    TaskState.QUEUED,
    TaskState.STAGED,
    TaskState.SUCCEEDED,
    TaskState.FAILED,
    TaskState.CANCELLED,
)


@dataclass(slots=True)
class Entry:
    """A task and where it is in its life.

    ``worker_id`` and ``began`` describe the current claim while staged;
    ``error`` outlives a retry_tasks until the task finishes again;
    ``generation`` counts how often the task was queued, so the queue can
    tell its current slot from stale ones.
    """

    task: Task
    state: TaskState = QUEUED
    attempt: int = 0
    worker_id: str | None = None
    began: float | None = None
    result: bytes | None = None
    error: str | None = None
    done_at: float | None = None
    cancel_requested: bool = False
    generation: int = 0


@dataclass
class Space:
    """Everything stored under one namespace (``name``, exactly as it was first opened)."""

    name: str
    tasks: dict[str, Entry] = field(default_factory=dict)
    queues: dict[str, GroupQueue] = field(default_factory=dict)
    unique: dict[tuple[str, str], str] = field(default_factory=dict)
    """(group, unique key) -> the id of the task that last took the key."""
    cancel_requests: dict[str, set[str]] = field(default_factory=dict)
    """worker id -> ids of tasks staged to it whose cancellation was requested."""
    leases: dict[str, float] = field(default_factory=dict)
    scheduler: dict[str, bytes] = field(default_factory=dict)
    locks: dict[str, object] = field(default_factory=dict)
    events: list[bytes] = field(default_factory=list)
    events_dropped: int = 0
    watchers: list[Callable[[str], None]] = field(default_factory=list)


class MemoryStore:
    """One named store (``memory://name``): namespaces behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Condition(threading.RLock())
        self.spaces: dict[str, Space] = {}

    def space(self, namespace: str) -> Space:
        """The space of ``namespace``, made on first use.

        ConfigurationError when a namespace differing only in case has one.
        """
        with self.lock:
            space = self.spaces.setdefault(namespace_key(namespace), Space(namespace))
        check_same_namespace(namespace, space.name)
        return space


_STORES: dict[str, MemoryStore] = {}
_STORES_LOCK = threading.Lock()


def store_named(name: str) -> MemoryStore:
    with _STORES_LOCK:
        return _STORES.setdefault(name, MemoryStore())
