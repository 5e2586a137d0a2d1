"""Counting what a worker sends to its backend, on the server side where there is one.

- Redis: ``MONITOR`` on a private instance; each line is one command a
  client sent (commands a Lua script runs are tagged ``lua`` and counted
  apart, so a script call counts once, as the round trip it is).
- PostgreSQL: ``pg_stat_statements`` on a private instance (calls per
  normalized statement in the bench database, BEGIN/COMMIT included; our
  own snapshot query left out).
- MariaDB: ``SHOW GLOBAL STATUS`` deltas of every ``Com_*`` counter
  (statements and pings a client sent) on a private instance, less our
  own SHOW.
- SQLite has no server: a SQLAlchemy event listener inside the worker
  process counts every statement and commit (``sqlcount``).

Each counter's ``read`` returns cumulative counts by kind; a rate is the
difference of two reads over the time between them.
"""

from __future__ import annotations

import re
import select
import socket
import threading
from collections import Counter
from typing import Protocol

from .servers import MariaDBServer, PostgresServer
from .sqlcount import StatementCounter

TRANSACTION_CONTROL = frozenset(
    {"BEGIN", "COMMIT", "ROLLBACK", "Com_begin", "Com_commit", "Com_rollback"}
)
"""Kinds that are transaction control rather than queries (reported apart)."""


class QueryCounter(Protocol):
    """Cumulative counts of what clients sent, by kind."""

    source: str

    def read(self) -> dict[str, int]: ...

    def close(self) -> None: ...


_MONITOR_LINE = re.compile(rb'^\+[0-9.]+ \[\d+ ([^\]]+)\] "([^"]*)"')


class RedisMonitorCounter:
    """Counts commands through ``MONITOR`` (a reader thread; commands run by scripts apart)."""

    source = "Redis MONITOR on a private instance (top-level commands; script-internal apart)"

    def __init__(self, host: str, port: int) -> None:
        self._sock = socket.create_connection((host, port), timeout=5)
        self._sock.sendall(b"MONITOR\r\n")
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._buffer = b""
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-monitor", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("MONITOR did not answer")

    def _run(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._sock], [], [], 0.2)
            if not readable:
                continue
            chunk = self._sock.recv(65536)
            if not chunk:
                return
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\r\n")
            for line in lines:
                self._count(line)

    def _count(self, line: bytes) -> None:
        if line == b"+OK":
            self._ready.set()
            return
        match = _MONITOR_LINE.match(line)
        if match is None:
            return
        source, command = match.group(1), match.group(2).decode(errors="replace").upper()
        key = f"(in script) {command}" if source == b"lua" else command
        with self._lock:
            self._counts[key] += 1

    def read(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


class PostgresStatementCounter:
    """Calls per statement from ``pg_stat_statements`` in one database."""

    source = "pg_stat_statements on a private PostgreSQL 15 (BEGIN/COMMIT counted apart)"

    def __init__(self, server: PostgresServer, database: str = "bench") -> None:
        self.server = server
        self.database = database

    def read(self) -> dict[str, int]:
        rows = self.server.sql(
            self.database,
            "SELECT query, calls FROM pg_stat_statements s JOIN pg_database d "
            "ON d.oid = s.dbid WHERE d.datname = %s "
            "AND query NOT LIKE '%%pg_stat_statements%%'",
            (self.database,),
        )
        counts: Counter[str] = Counter()
        for query, calls in rows:
            assert isinstance(query, str) and isinstance(calls, int)
            counts[_statement_kind(query)] += calls
        return dict(counts)

    def close(self) -> None:
        return None


def _statement_kind(query: str) -> str:
    text = " ".join(query.split())
    head = text.split(" ", 1)[0].upper()
    if head in {"BEGIN", "COMMIT", "ROLLBACK"}:
        return head
    return text[:90]


class MariaDBQuestionCounter:
    """``Com_*`` deltas from ``SHOW GLOBAL STATUS``, less our own SHOWs.

    ``Questions`` leaves out COM_PING (``Com_admin_commands``), which the
    connection pool's pre-ping sends; it is a round trip all the same, so
    the total here is the sum of every ``Com_*`` counter.
    """

    source = "MariaDB SHOW GLOBAL STATUS Com_* deltas on a private instance (pings included)"

    def __init__(self, server: MariaDBServer) -> None:
        self.server = server

    def read(self) -> dict[str, int]:
        rows = self.server.sql("SHOW GLOBAL STATUS LIKE 'Com\\_%'")
        return {
            str(name): int(str(value))
            for name, value in rows
            if int(str(value)) and name != "Com_show_status"
        }

    def close(self) -> None:
        return None


class SqlClientCounter:
    """Statements counted inside the worker by a SQLAlchemy listener (SQLite: no server)."""

    source = "SQLAlchemy statement/commit events inside the worker process (client side)"

    def __init__(self, counter: StatementCounter) -> None:
        self.counter = counter

    def read(self) -> dict[str, int]:
        return self.counter.snapshot()

    def close(self) -> None:
        self.counter.close()


def rate(before: dict[str, int], after: dict[str, int], seconds: float) -> dict[str, float]:
    """Per-second rate of each kind between two reads (kinds that did not move left out)."""
    kinds = set(before) | set(after)
    out = {k: (after.get(k, 0) - before.get(k, 0)) / seconds for k in kinds}
    return {k: v for k, v in sorted(out.items(), key=lambda kv: -kv[1]) if v}


def split_total(rates: dict[str, float]) -> tuple[float, float, float]:
    """(all statements, transaction control, script-internal) per second."""
    scripted = sum(v for k, v in rates.items() if k.startswith("(in script)"))
    control = sum(v for k, v in rates.items() if k in TRANSACTION_CONTROL)
    total = sum(rates.values()) - scripted
    return total, control, scripted
