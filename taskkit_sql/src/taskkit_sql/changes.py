"""Change sources: what tells a backend and its event bridge that something changed.

A change source (PostgreSQL's LISTEN thread in ``listener``, SQLite's WAL
watcher in ``walwatch``, MySQL/MariaDB's look for due tasks in ``duewatch``)
keeps two registries: task
watchers, called with a group when tasks of that group were put, and event
waiters, set when control events may have been sent. Both only wake
receivers early; what a source misses is found by the receivers' polling.
:class:`WatchedSource` holds the registries; a source adds its thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

logger = logging.getLogger("taskkit.sql.listener")

Watcher = Callable[[str], None]
"""A ``watch_tasks`` callback: called with the group of tasks that were put."""


def channel_names(namespace: str) -> tuple[str, str]:
    """The task and event channels of a namespace (where the family has channels)."""
    return f"{namespace}_tasks", f"{namespace}_events"


class ChangeSource(Protocol):
    """What pushes changes to a backend and its event bridge."""

    @property
    def listening(self) -> bool:
        """True while changes are pushed (receivers may then poll slowly)."""
        ...

    def add_watcher(self, callback: Watcher) -> None:
        """Call ``callback(group)`` when tasks of ``group`` were put."""
        ...

    def remove_watcher(self, callback: Watcher) -> None: ...

    def add_waiter(self, waiter: threading.Event) -> None:
        """Set ``waiter`` when control events may have been sent."""
        ...

    def remove_waiter(self, waiter: threading.Event) -> None: ...

    def claimed(self, group: str, took: int, asked: int) -> None:
        """A claim of ``group`` in this process took ``took`` of ``asked`` tasks."""
        ...

    def tasks_put(self, groups: Iterable[str], *, committed: bool = True) -> None:
        """This process put (or queued again) tasks of ``groups``; ``committed``: visible now."""
        ...

    def close(self) -> None: ...


class WatchedSource:
    """The watcher and waiter registries of a change source; its thread starts on first use."""

    def __init__(self) -> None:
        self._watchers: list[Watcher] = []
        self._waiters: list[threading.Event] = []
        self._lock = threading.Lock()

    def _start(self) -> None:
        """Start the source's thread if it is not running (called on each registration)."""
        raise NotImplementedError

    def add_watcher(self, callback: Watcher) -> None:
        with self._lock:
            self._watchers.append(callback)
        self._start()

    def remove_watcher(self, callback: Watcher) -> None:
        with self._lock:
            if callback in self._watchers:
                self._watchers.remove(callback)

    def add_waiter(self, waiter: threading.Event) -> None:
        with self._lock:
            self._waiters.append(waiter)
        self._start()

    def remove_waiter(self, waiter: threading.Event) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def claimed(self, group: str, took: int, asked: int) -> None:
        """Sources that push every change need not know (see ``duewatch`` for one that does)."""
        return None

    def tasks_put(self, groups: Iterable[str], *, committed: bool = True) -> None:
        """Sources that push every change hear of these puts from the database."""
        return None

    def _current_watchers(self) -> list[Watcher]:
        with self._lock:
            return list(self._watchers)

    def _wake_waiters(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for waiter in waiters:
            waiter.set()


def tell_watchers(watchers: Iterable[Watcher], group: str) -> None:
    """Call each watcher with ``group``; a failing callback is logged, the others still run."""
    for callback in watchers:
        try:
            callback(group)
        except Exception:
            logger.exception("a watch_tasks callback failed")
