"""The overview's table: every group's counts, read once for all viewers, shown a page at a time.

``group_stats`` is the protocol's one per-group read and it has no paging:
it answers for every group at once. The dashboard reads it at most once
per refresh interval (:class:`~.paging.Shared`) and pages the answer, so
10,000 groups cost one query per interval and one page of rows per view.
The same read takes the workers' roster (``worker/roster.py``): a group
that live workers serve is paused when every one of them paused it; for a
group no worker with a card serves, the control events this dashboard has
seen say it (:mod:`.controls`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backend import Backend, GroupStats
from ..clock import cur_ts
from ..worker.roster import live_workers
from .controls import Control, ControlTracker
from .paging import Page, page_after

WINDOW = 3600.0
"""Finished counts cover this many seconds back."""


@dataclass(frozen=True)
class Stats:
    """One read of ``group_stats`` and of the roster, and when it was taken.

    ``paused`` has each group live workers serve: True when all of them paused it.
    """

    taken: float
    groups: list[GroupStats]
    names: list[str]
    paused: dict[str, bool]

    def control(self, group: str, controls: ControlTracker) -> Control | None:
        """The pause in force for ``group``.

        An event seen after this read is the newest word; else the workers'
        roster says it, and for a group no worker with a card serves, the
        events seen since the dashboard started.
        """
        last = controls.last(group)
        if last is not None and last.seen >= self.taken:
            return None if last.name == "resume" else last
        served = self.paused.get(group)
        if served is None:
            return controls.of(group)
        if not served:
            return None
        return last if last is not None and last.name == "pause" else Control("pause", self.taken)


def read_stats(backend: Backend) -> Stats:
    """Every group's counts (finished ones over the last hour), sorted by name."""
    now = cur_ts()
    groups = sorted(backend.group_stats(since=now - WINDOW), key=lambda s: s.group)
    paused = live_workers(backend).paused_groups()
    return Stats(now, groups, [s.group for s in groups], paused)


@dataclass(frozen=True)
class GroupRow:
    """One group as the overview shows it; ``oldest_wait`` None when nothing is due."""

    group: str
    queued: int
    due: int
    staged: int
    succeeded: int
    failed: int
    cancelled: int
    oldest_wait: float | None
    control: Control | None


def _row(stats: GroupStats, now: float, control: Control | None) -> GroupRow:
    oldest = None if stats.oldest_due is None else max(0.0, now - stats.oldest_due)
    return GroupRow(
        group=stats.group,
        queued=stats.queued,
        due=stats.due,
        staged=stats.staged,
        succeeded=stats.done,
        failed=stats.failed,
        cancelled=stats.cancelled,
        oldest_wait=oldest,
        control=control,
    )


def group_page(
    stats: Stats, controls: ControlTracker, after: str | None, match: str, size: int
) -> Page[GroupRow]:
    """The page of groups after ``after`` whose name contains ``match`` (any case)."""
    groups, names = stats.groups, stats.names
    if match:
        needle = match.casefold()
        groups = [s for s in groups if needle in s.group.casefold()]
        names = [s.group for s in groups]
    page = page_after(groups, names, after, size)
    rows = [_row(s, stats.taken, stats.control(s.group, controls)) for s in page.rows]
    return Page(rows, page.total, page.next_after)


@dataclass(frozen=True)
class Totals:
    """The sums over every group."""

    groups: int
    queued: int
    due: int
    staged: int
    succeeded: int
    failed: int


def totals(stats: Stats) -> Totals:
    """The sums of the counts of every group."""
    g = stats.groups
    return Totals(
        groups=len(g),
        queued=sum(s.queued for s in g),
        due=sum(s.due for s in g),
        staged=sum(s.staged for s in g),
        succeeded=sum(s.done for s in g),
        failed=sum(s.failed for s in g),
    )
