"""The last hour as two small server-drawn SVG charts: tasks finished, and wait and run times.

Twelve five-minute buckets. The count of each bucket comes from
``get_done_task_ids`` over that bucket (an indexed range read on every
backend), capped at CAP ids so a busy hour costs a bounded read; a capped
bar says "CAP+". Wait time (claim minus due) and run time (finish minus
claim) are medians over a sample: the newest SAMPLE finished tasks, read
with job control's ``list_tasks``; without job control the timing chart
is left out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ..backend import Backend
from ..clock import cur_ts
from ..records import TaskInfo, TaskState

BUCKETS = 12
BUCKET_SECONDS = 300.0
CAP = 5000
SAMPLE = 500

WIDTH, HEIGHT = 600, 120


@dataclass(frozen=True)
class Bucket:
    """Five minutes: how many tasks finished, and median wait and run times (s)."""

    start: float
    finished: int
    capped: bool
    wait: float | None
    run: float | None


def hour_buckets(backend: Backend, jobs: Backend | None) -> list[Bucket]:
    """The last hour's buckets, oldest first."""
    now = cur_ts()
    starts = [now - BUCKET_SECONDS * (BUCKETS - i) for i in range(BUCKETS)]
    sample = _sample(jobs) if jobs is not None else []
    return [_bucket(backend, start, sample) for start in starts]


def _sample(jobs: Backend) -> list[TaskInfo]:
    return [
        info
        for state in (TaskState.SUCCEEDED, TaskState.FAILED)
        for info in jobs.list_tasks(state, limit=SAMPLE)
        if info.began is not None and info.finished is not None
    ]


def _bucket(backend: Backend, start: float, sample: list[TaskInfo]) -> Bucket:
    end = start + BUCKET_SECONDS
    ids = backend.get_done_task_ids(start, end, CAP + 1)
    inside = [i for i in sample if i.finished is not None and start <= i.finished < end]
    return Bucket(
        start=start,
        finished=min(len(ids), CAP),
        capped=len(ids) > CAP,
        wait=_median([i.began - i.task.due for i in inside if i.began is not None]),
        run=_median([i.finished - i.began for i in inside if i.finished and i.began]),
    )


def _median(values: list[float]) -> float | None:
    return max(0.0, statistics.median(values)) if values else None


@dataclass(frozen=True)
class Bar:
    """One bar of the throughput chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    """What the template draws: bars or polylines, the top of the scale, the time labels."""

    bars: list[Bar]
    lines: dict[str, str]
    top: str
    first: float
    last: float
    width: int = WIDTH
    height: int = HEIGHT


def throughput_chart(buckets: Sequence[Bucket]) -> Chart:
    """Bars of tasks finished per bucket."""
    top = max([b.finished for b in buckets] + [1])
    step = WIDTH / len(buckets)
    bars = []
    for n, b in enumerate(buckets):
        height = HEIGHT * b.finished / top
        label = f"{b.finished:,}{'+' if b.capped else ''} finished"
        bars.append(Bar(n * step + 2, HEIGHT - height, step - 4, height, label))
    return Chart(bars, {}, f"{top:,}", buckets[0].start, buckets[-1].start + BUCKET_SECONDS)


def timing_chart(buckets: Sequence[Bucket]) -> Chart | None:
    """Lines of median wait and run time per bucket; None when no bucket has a sample."""
    values = [v for b in buckets for v in (b.wait, b.run) if v is not None]
    if not values:
        return None
    top = max(values) or 1.0
    step = WIDTH / len(buckets)
    lines = {
        "wait": _polyline([b.wait for b in buckets], step, top),
        "run": _polyline([b.run for b in buckets], step, top),
    }
    return Chart([], lines, f"{top:.2f} s", buckets[0].start, buckets[-1].start + BUCKET_SECONDS)


def _polyline(values: list[float | None], step: float, top: float) -> str:
    points = [
        f"{(n + 0.5) * step:.1f},{HEIGHT - HEIGHT * v / top:.1f}"
        for n, v in enumerate(values)
        if v is not None
    ]
    return " ".join(points)
