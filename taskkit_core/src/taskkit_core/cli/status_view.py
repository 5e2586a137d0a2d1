"""What ``taskkit status`` shows: a snapshot of the groups and workers, as tables or JSON.

Worker leases store only their expiry, so the last heartbeat is estimated
as the expiry minus the worker's TTL (from its roster card, else the
default); the table shows the expiry too. Which groups a worker serves and
which it paused come from the roster (``worker/roster.py``): a group is
paused when every live worker serving it paused it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from ..backend import Backend
from ..clock import cur_ts
from ..settings import WorkerSettings
from ..url import mask_url
from ..worker.roster import LiveWorkers, WorkerCard, live_workers
from .render import Cell, Styled, TextTable

WINDOW = 3600.0
"""Done and failed counts cover this many seconds back."""


@dataclass(frozen=True)
class GroupRow:
    """One group's counts; waiting age in seconds (None: nothing is due)."""

    group: str
    queued: int
    due_now: int
    staged: int
    done_last_hour: int
    failed_last_hour: int
    oldest_waiting_seconds: float | None
    workers: int = 0
    """Live workers serving the group (None in JSON would mean unknown: see ``Snapshot``)."""
    paused: bool = False
    cancelled_last_hour: int = 0


@dataclass(frozen=True)
class WorkerRow:
    """One worker lease; the heartbeat age is an estimate (see the module docstring)."""

    worker_id: str
    host: str
    pid: str
    lease_expires_in_seconds: float
    last_heartbeat_seconds_ago: float
    threads: dict[str, int] | None = None
    """Threads per group it serves; None for a worker without a roster card."""
    paused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    """The state of one backend namespace at ``taken`` (seconds since the epoch)."""

    url: str
    namespace: str
    taken: float
    groups: list[GroupRow]
    workers: list[WorkerRow]
    paused_groups: list[str] = field(default_factory=list)
    unknown_workers: int = 0
    """Live workers without a roster card (taskkit 0.3): their groups are not known."""

    def to_json(self) -> dict[str, Any]:
        """The snapshot as plain JSON values (``taskkit status --json``)."""
        return asdict(self)


def take_snapshot(backend: Backend) -> Snapshot:
    """Read the group counts and the workers from ``backend``."""
    now = cur_ts()
    ttl = WorkerSettings().worker_ttl
    groups = [
        GroupRow(
            s.group,
            s.queued,
            s.due,
            s.staged,
            s.done,
            s.failed,
            None if s.oldest_due is None else max(0.0, now - s.oldest_due),
            cancelled_last_hour=s.cancelled,
        )
        for s in backend.group_stats(since=now - WINDOW)
    ]
    live = live_workers(backend)
    workers = [
        _worker_row(worker_id, expiry, now, ttl, live.cards.get(worker_id))
        for worker_id, expiry in backend.get_leases()
    ]
    paused = live.paused_groups()
    return Snapshot(
        mask_url(backend.url),
        backend.namespace,
        now,
        _with_workers(groups, live),
        workers,
        paused_groups=sorted(group for group, all_paused in paused.items() if all_paused),
        unknown_workers=len(live.unknown),
    )


def _with_workers(groups: list[GroupRow], live: LiveWorkers) -> list[GroupRow]:
    """The groups with their live workers and paused state; served groups without tasks too."""
    paused = live.paused_groups()
    known = {g.group for g in groups}
    served = [GroupRow(group, 0, 0, 0, 0, 0, None) for group in sorted(set(paused) - known)]
    return [
        replace(
            g,
            workers=sum(g.group in card.serving for card in live.cards.values()),
            paused=paused.get(g.group, False),
        )
        for g in [*groups, *served]
    ]


def _worker_row(
    worker_id: str, expiry: float, now: float, ttl: float, card: WorkerCard | None
) -> WorkerRow:
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0] if rest else ""
    ttl = card.worker_ttl if card is not None else ttl
    return WorkerRow(
        worker_id=worker_id,
        host=host if rest else "",
        pid=pid,
        lease_expires_in_seconds=expiry - now,
        last_heartbeat_seconds_ago=max(0.0, now - (expiry - ttl)),
        threads=None if card is None else {g: card.threads[g] for g in sorted(card.serving)},
        paused=[] if card is None else card.paused,
    )


def duration(seconds: float) -> str:
    """A short human duration: 0.4 s, 12 s, 3 min, 2.5 h, 4 d."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def _lease(seconds: float) -> Cell:
    if seconds >= 0:
        return f"expires in {duration(seconds)}"
    return Styled(f"expired {duration(-seconds)} ago", "red")


GROUP_COLUMNS = (
    "group",
    "queued",
    "due now",
    "staged",
    "done 1h",
    "failed 1h",
    "cancelled 1h",
    "oldest wait",
    "workers",
    "state",
)
WORKER_COLUMNS = ("worker", "host", "pid", "groups (threads)", "last heartbeat", "lease")


def groups_table(snapshot: Snapshot) -> TextTable:
    """One row per group that has tasks."""
    table = TextTable("Groups", GROUP_COLUMNS, right=frozenset(GROUP_COLUMNS[1:-1]))
    for g in snapshot.groups:
        oldest = "-" if g.oldest_waiting_seconds is None else duration(g.oldest_waiting_seconds)
        failed = Styled(str(g.failed_last_hour), "red" if g.failed_last_hour else "")
        table.add_row(
            g.group,
            str(g.queued),
            str(g.due_now),
            str(g.staged),
            str(g.done_last_hour),
            failed,
            str(g.cancelled_last_hour),
            oldest,
            str(g.workers) if g.workers or not snapshot.unknown_workers else "?",
            _group_state(g),
        )
    if not snapshot.groups:
        table.caption = "no tasks queued, running or finished in the last hour"
    return table


def workers_table(snapshot: Snapshot) -> TextTable:
    """One row per worker process that holds (or held) a lease."""
    table = TextTable("Workers", WORKER_COLUMNS, right=frozenset({"pid", "last heartbeat"}))
    for w in snapshot.workers:
        table.add_row(
            w.worker_id,
            w.host,
            w.pid,
            _served(w),
            f"~{duration(w.last_heartbeat_seconds_ago)} ago",
            _lease(w.lease_expires_in_seconds),
        )
    if not snapshot.workers:
        table.caption = "no live workers"
    return table


def _group_state(group: GroupRow) -> Cell:
    if group.paused:
        return Styled("paused", "yellow")
    return "serving" if group.workers else Styled("no worker", "dim")


def _served(worker: WorkerRow) -> str:
    """``default 4, mail 2 (paused: mail)``; ``?`` for a worker without a roster card."""
    if worker.threads is None:
        return "?"
    served = ", ".join(f"{group} {count}" for group, count in worker.threads.items()) or "none"
    return f"{served} (paused: {', '.join(worker.paused)})" if worker.paused else served


def render(snapshot: Snapshot) -> list[TextTable | Cell]:
    """The heading and both tables, for printing or for a live display."""
    when = datetime.fromtimestamp(snapshot.taken).strftime("%H:%M:%S")
    heading = f"{snapshot.url}  namespace {snapshot.namespace}  at {when}"
    return [Styled(heading, "bold"), groups_table(snapshot), workers_table(snapshot)]
