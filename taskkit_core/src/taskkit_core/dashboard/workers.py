"""The workers page: each lease, what its worker serves, and what is staged to it now.

``get_leases`` answers (worker id, expiry); the worker id is
``host:pid:random``. Each worker's card in the roster
(``worker/roster.py``) adds when it started, the threads of each group it
serves, the groups it paused and its lease ttl, from which the last
heartbeat is estimated (expiry minus ttl). A worker without a card (taskkit
0.3) shows only its lease. The groups of the tasks staged to each worker
come from ``get_stage_info`` (at most STAGE_LIMIT, longest-held first).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from ..backend import Backend
from ..clock import cur_ts
from ..worker.roster import WorkerCard, read_roster
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
    serving: dict[str, int] | None = None
    """Threads of each group it serves (None: no roster card, a 0.3 worker)."""
    paused: tuple[str, ...] = ()
    up_for: float | None = None


@dataclass(frozen=True)
class Workers:
    """A page of workers, and whether the staged tasks were read only in part."""

    page: Page[WorkerRow]
    stage_capped: bool


def read_workers(backend: Backend, worker_ttl: float, after: str | None, size: int) -> Workers:
    """The page of leases after worker id ``after``, with their staged tasks."""
    now = cur_ts()
    found = sorted(backend.get_leases())
    page = page_after(found, [worker_id for worker_id, _ in found], after, size)
    stages = backend.get_stage_info(STAGE_LIMIT)
    groups = _staged_groups(backend, [(s.worker_id, s.task_id) for s in stages])
    cards = read_roster(backend)
    rows = [_row(w, expiry, now, worker_ttl, groups[w], cards.get(w)) for w, expiry in page.rows]
    return Workers(Page(rows, page.total, page.next_after), len(stages) >= STAGE_LIMIT)


def _staged_groups(backend: Backend, staged: list[tuple[str, str]]) -> dict[str, Counter[str]]:
    tasks = backend.lookup_tasks(*(task_id for _, task_id in staged)) if staged else {}
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for worker_id, task_id in staged:
        task = tasks.get(task_id)
        groups[worker_id][task.group if task else "?"] += 1
    return groups


def _row(
    worker_id: str,
    expiry: float,
    now: float,
    ttl: float,
    groups: Counter[str],
    card: WorkerCard | None,
) -> WorkerRow:
    host, _, rest = worker_id.partition(":")
    if card is not None:
        ttl = card.worker_ttl
    return WorkerRow(
        worker_id=worker_id,
        host=host if rest else "",
        pid=rest.partition(":")[0],
        expires_in=expiry - now,
        heartbeat_ago=max(0.0, now - (expiry - ttl)),
        staged=sum(groups.values()),
        groups=dict(sorted(groups.items())),
        serving=None if card is None else {g: card.threads[g] for g in sorted(card.serving)},
        paused=() if card is None else tuple(sorted(card.paused)),
        up_for=None if card is None else max(0.0, now - card.started),
    )
