"""The workers page: each lease, and what is staged to its worker now.

What the protocol gives today: ``get_leases`` answers (worker id, expiry)
and nothing else. The worker id is ``host:pid:random``, which names host
and process. The last heartbeat is estimated as the expiry minus the lease
ttl (``worker_ttl``). When the lease was first taken (its age), and the
groups and thread counts a worker serves, are not stored anywhere; the
page shows instead the groups of the tasks staged to each worker now, from
``get_stage_info`` (at most STAGE_LIMIT, longest-held first).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from ..backend import Backend
from ..clock import cur_ts
from .jobcontrol import leases
from .paging import Page, page_after

STAGE_LIMIT = 1000


@dataclass(frozen=True)
class WorkerRow:
    """One lease; ``heartbeat_ago`` is an estimate (see the module docstring)."""

    worker_id: str
    host: str
    pid: str
    expires_in: float
    heartbeat_ago: float
    staged: int
    groups: dict[str, int]


@dataclass(frozen=True)
class Workers:
    """A page of workers, and whether the staged tasks were read only in part."""

    page: Page[WorkerRow]
    stage_capped: bool


def read_workers(backend: Backend, worker_ttl: float, after: str | None, size: int) -> Workers:
    """The page of leases after worker id ``after``, with their staged tasks."""
    now = cur_ts()
    found = sorted(leases(backend))
    page = page_after(found, [worker_id for worker_id, _ in found], after, size)
    stages = backend.get_stage_info(STAGE_LIMIT)
    groups = _staged_groups(backend, [(s.worker_id, s.task_id) for s in stages])
    rows = [_row(w, expiry, now, worker_ttl, groups[w]) for w, expiry in page.rows]
    return Workers(Page(rows, page.total, page.next_after), len(stages) >= STAGE_LIMIT)


def _staged_groups(backend: Backend, staged: list[tuple[str, str]]) -> dict[str, Counter[str]]:
    tasks = backend.lookup_tasks(*(task_id for _, task_id in staged)) if staged else {}
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for worker_id, task_id in staged:
        task = tasks.get(task_id)
        groups[worker_id][task.group if task else "?"] += 1
    return groups


def _row(worker_id: str, expiry: float, now: float, ttl: float, groups: Counter[str]) -> WorkerRow:
    host, _, rest = worker_id.partition(":")
    return WorkerRow(
        worker_id=worker_id,
        host=host if rest else "",
        pid=rest.partition(":")[0],
        expires_in=expiry - now,
        heartbeat_ago=max(0.0, now - (expiry - ttl)),
        staged=sum(groups.values()),
        groups=dict(sorted(groups.items())),
    )
