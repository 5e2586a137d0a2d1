"""One backend URL under test: a clean namespace per run, a Kit, and the workers it starts.

Each run gets its own namespace (created with ``taskkit_core.migrate`` on
backends that need storage set up, removed with ``registry.drop`` after),
so runs never see each other's tasks. Workers are started the way an
application starts them: ``kit.start_processes`` where the backend is
shared between processes, ``kit.start_threads`` for memory://. Every stop
is bounded in time; a process that does not stop is killed.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from taskkit_core.opening import drop, lookup_backend
from taskkit_core.url import mask_url

from taskkit_core import (
    InitiateTaskArgs,
    Kit,
    TaskHandler,
    TaskkitProcess,
    WorkerRuntime,
    WorkerSettings,
)
from taskkit_core import migrate as migrate_storage

from .handler import GROUP, TASK
from .stopping import stop_processes

logger = logging.getLogger("benchmarks")

STOP_GRACE = 15.0
"""Seconds a worker process gets to stop after SIGTERM before it is killed."""


def new_namespace() -> str:
    """A namespace no other run uses (at most 41 characters, as the registry requires)."""
    return f"tkb_{os.getpid()}_{secrets.token_hex(4)}"


@dataclass
class Workers:
    """Worker processes (or in-process runtimes, for memory://) of one run."""

    processes: list[TaskkitProcess] = field(default_factory=list)
    runtimes: list[WorkerRuntime] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM every process (it drains), kill what is left after ``grace`` s."""
        stop_processes(self.processes, grace)
        for runtime in self.runtimes:
            runtime.stop(timeout=grace)
        self.processes.clear()
        self.runtimes.clear()


class Session:
    """A Kit over ``url`` in a namespace of its own, created on entry and dropped on exit."""

    def __init__(
        self,
        url: str,
        handler: TaskHandler,
        *,
        settings: WorkerSettings | None = None,
        namespace: str | None = None,
    ) -> None:
        self.url = url
        self.handler = handler
        self.namespace = namespace or new_namespace()
        self.settings = settings
        _, entry = lookup_backend(url)
        self.multi_process = entry.capabilities.multi_process
        if entry.migrate is not None:
            migrate_storage(url, namespace=self.namespace)
        self.kit = Kit.from_url(url, handler, settings=settings, namespace=self.namespace)
        self.workers = Workers()

    def __repr__(self) -> str:
        return f"Session({mask_url(self.url)!r}, namespace={self.namespace!r})"

    def clean(self) -> None:
        """Delete every task of this namespace (the peers' ``clean``)."""
        self.kit.backend.destroy_all()

    def enqueue(self, ids: list[int], *, bulk: bool) -> None:
        """One ``initiate_task`` call per id, or one ``initiate_tasks`` call for all."""
        if bulk:
            items: list[InitiateTaskArgs] = [{"group": GROUP, "name": TASK, "data": i} for i in ids]
            self.kit.initiate_tasks(*items)
        else:
            initiate = self.kit.initiate_task
            for i in ids:
                initiate(GROUP, TASK, i)

    def start_workers(self, processes: int, threads: int) -> Workers:
        """``processes`` x ``threads`` workers of the bench group, started now."""
        counts = {GROUP: threads}
        if self.multi_process:
            self.workers.processes += self.kit.start_processes(processes, counts)
        else:
            self.workers.runtimes += [self.kit.start_threads(counts) for _ in range(processes)]
        return self.workers

    def stop_workers(self) -> None:
        self.workers.stop()

    def close(self) -> None:
        """Stop the workers, close the Kit and drop the namespace."""
        try:
            self.stop_workers()
        finally:
            try:
                self.kit.backend.destroy_all()
                self.kit.close()
            finally:
                drop(self.url, namespace=self.namespace)


@contextmanager
def session(url: str, handler: TaskHandler, **kwargs: Any) -> Iterator[Session]:
    """A :class:`Session` that is closed (namespace dropped) however the block ends."""
    s = Session(url, handler, **kwargs)
    try:
        yield s
    finally:
        s.close()
