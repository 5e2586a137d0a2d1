"""The supervisor keeps the leases of its worker processes, free of their GIL.

A worker process refreshes its own lease on a thread (``heartbeat``), and
that thread needs the GIL: task threads holding it in long C calls (a big
``sorted``, NumPy on object arrays) delay every refresh by a slice each time
it needs the GIL back, and a lease that lapses gets a live worker's tasks
restored and run twice (measured in RELIABILITY.md: on this 2-core machine
two threads sorting three million floats made the gap between refreshes
pass 10 s). The supervisor runs no task code, so its own refresh of its
children's leases is never late. Each child publishes in shared memory its
worker id and when its own heartbeat last succeeded; the supervisor renews
the lease of every child that

- is alive and not stopped (SIGSTOP: its tasks must go elsewhere), and
- refreshed its own lease within ``STUCK_TTLS`` x ``worker_ttl``: a child
  stuck on a dead connection stops being vouched for, so its tasks are
  restored (later than an unsupervised worker's, bounded all the same).

A child that dies is vouched for no more and its lease lapses within
``worker_ttl``, as before; recovery keeps its bound. The child's own
heartbeat keeps running: it still decides when the child stops claiming.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Protocol, cast

from ..backend import Backend
from .heartbeat import Heartbeat

logger = logging.getLogger("taskkit.services")

STUCK_TTLS = 3.0
"""How many worker_ttls a child's own heartbeat may fail or lag before it is not vouched for."""
ID_BYTES = 256


class LeaseShare:
    """What a worker process tells its supervisor: its worker id, its last own refresh."""

    def __init__(self, context: BaseContext) -> None:
        self._worker_id: Any = context.Array("c", ID_BYTES)
        self._refreshed: Any = context.Value("d", float("-inf"))

    @property
    def worker_id(self) -> str:
        return bytes(self._worker_id.value).decode()

    @property
    def refreshed(self) -> float:
        """``time.monotonic()`` of the child's last own refresh (one clock per host)."""
        return float(self._refreshed.value)

    def publish(self, heartbeat: Heartbeat) -> None:
        """In the child, before its first heartbeat: publish its id and each own refresh.

        The time is written by the heartbeat thread as its refresh returns, in
        the same hold of the GIL: no other thread has to get the GIL for it.
        """
        self._worker_id.value = next(iter(heartbeat.worker_ids)).encode()[: ID_BYTES - 1]
        heartbeat.backend = cast(Backend, _Published(heartbeat.backend, self._refreshed))


class _Published:
    """The backend as a child's heartbeat sees it: a refresh that returns is published."""

    def __init__(self, backend: Backend, refreshed: Any) -> None:
        self._backend = backend
        self._refreshed = refreshed

    def refresh_leases(self, worker_ids: Collection[str], ttl: float) -> Any:
        refresh: Callable[..., Any] = self._backend.refresh_leases  # its answer passes through
        answer = refresh(worker_ids, ttl)
        self._refreshed.value = time.monotonic()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


class Vouchable(Protocol):
    """What the keeper needs of a worker process (TaskkitProcess)."""

    lease: LeaseShare

    @property
    def pid(self) -> int | None: ...

    def is_alive(self) -> bool: ...


class LeaseKeeper:
    """A supervisor's service: renews the leases of the children it can vouch for."""

    def __init__(
        self,
        backend: Backend,
        ttl: float,
        interval: float,
        children: Callable[[], Sequence[Vouchable]],
    ) -> None:
        self.backend = backend
        self.ttl = ttl
        self.interval = interval
        self.children = children

    def __call__(self) -> float:
        ids = [child.lease.worker_id for child in self.children() if self._vouches(child)]
        if ids:
            self.backend.refresh_leases(ids, self.ttl)
        return self.interval

    def _vouches(self, child: Vouchable) -> bool:
        fresh = time.monotonic() - child.lease.refreshed < STUCK_TTLS * self.ttl
        alive = child.is_alive() and child.pid is not None and not stopped(child.pid)
        return alive and fresh and bool(child.lease.worker_id)


def stopped(pid: int) -> bool:
    """True when the process is stopped (SIGSTOP, a debugger); False where /proc is missing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] in ("T", "t")
