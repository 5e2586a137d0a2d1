"""Counting SQL statements on the client side, across a fork, through a shared file.

For SQLite, which has no server to ask. ``install`` registers listeners on
every SQLAlchemy Engine of this process (``before_cursor_execute``,
``commit``, ``rollback``); the counts live in a small file mapped with
MAP_SHARED, so every process that installs a counter on the same file
(or is forked after the install) writes into the same counters, and the
driver reads them from another process.

Worker processes start with forkserver (or spawn) by default, so they do
not inherit a listener from their launcher: the launcher sets the
environment variable ``TKBENCH_SQLCOUNT`` to the file, and
``install_from_env`` (called when ``benchmarks.handler`` is imported, which
unpickling the handler does in every worker) installs it there.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from pathlib import Path
from typing import Any

ENV = "TKBENCH_SQLCOUNT"
"""Environment variable naming the counter file that worker processes install."""

_installed: list[StatementCounter] = []

KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "other")
_SLOT = struct.Struct("<q")


class StatementCounter:
    """Counters in ``path`` (created zeroed by :meth:`create`), one int64 per kind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR)
        try:
            self._map = mmap.mmap(fd, _SLOT.size * len(KINDS), mmap.MAP_SHARED)
        finally:
            os.close(fd)
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @classmethod
    def create(cls, path: Path) -> StatementCounter:
        """A new zeroed counter file at ``path``."""
        path.write_bytes(b"\0" * (_SLOT.size * len(KINDS)))
        return cls(path)

    def add(self, kind: str) -> None:
        """Count one statement of ``kind`` (a member of KINDS)."""
        if self._pid != os.getpid():  # a forked child: its own lock, the same shared file
            self._lock = threading.Lock()
            self._pid = os.getpid()
        offset = KINDS.index(kind) * _SLOT.size
        with self._lock:
            (value,) = _SLOT.unpack_from(self._map, offset)
            _SLOT.pack_into(self._map, offset, value + 1)

    def snapshot(self) -> dict[str, int]:
        """Counts so far, by kind."""
        return {
            kind: _SLOT.unpack_from(self._map, i * _SLOT.size)[0] for i, kind in enumerate(KINDS)
        }

    def install(self) -> None:
        """Count every statement of every SQLAlchemy engine in this process and its forks."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._on_execute)
        event.listen(Engine, "commit", self._on_commit)
        event.listen(Engine, "rollback", self._on_rollback)

    def _on_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if head == "WITH":  # a CTE: count it by the statement it ends in
            head = next(
                (k for k in ("UPDATE", "DELETE", "INSERT") if k in statement.upper()), "SELECT"
            )
        self.add(head if head in KINDS else "other")

    def _on_commit(self, conn: Any) -> None:
        self.add("COMMIT")

    def _on_rollback(self, conn: Any) -> None:
        self.add("ROLLBACK")

    def close(self) -> None:
        self._map.close()


def install_from_env() -> StatementCounter | None:
    """Install the counter named by ``TKBENCH_SQLCOUNT`` once in this process (None: unset)."""
    path = os.environ.get(ENV)
    if not path:
        return None
    if not _installed:
        counter = StatementCounter(Path(path))
        counter.install()
        _installed.append(counter)
    return _installed[0]
