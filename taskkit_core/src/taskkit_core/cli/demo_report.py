"""The numbers at the end of ``taskkit demo``: outcomes, retries, throughput, latency."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from ..backend import Backend
from ..errors import Failed, NoResult, NotFound
from ..handler import TaskHandler
from .render import Cell, Styled, TextTable


@dataclass
class KindStats:
    """Outcomes of the tasks of one kind (task name)."""

    tasks: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, other: KindStats) -> None:
        """Add the counts and latencies of ``other`` to these."""
        self.tasks += other.tasks
        self.done += other.done
        self.failed += other.failed
        self.retried += other.retried
        self.retries += other.retries
        self.latencies += other.latencies


def percentile(values: list[float], pct: int) -> float | None:
    """The ``pct``-th percentile (None without values)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def collect(backend: Backend, handler: TaskHandler, task_ids: list[str]) -> dict[str, KindStats]:
    """Read each task's outcome; latency is the result's ``finished_at`` minus creation."""
    kinds: dict[str, KindStats] = defaultdict(KindStats)
    for task_id in task_ids:
        try:
            task, encoded = backend.get_result(task_id)
        except Failed as exc:
            stats = kinds[exc.task.name]
            stats.failed += 1
            _count_retries(stats, exc.task.retry_count)
            continue
        except (NoResult, NotFound):
            continue
        stats = kinds[task.name]
        stats.done += 1
        _count_retries(stats, task.retry_count)
        result = handler.decode_result(task, encoded)
        stats.latencies.append(float(result.finished_at) - task.created)
    return dict(kinds)


def _count_retries(stats: KindStats, retry_count: int) -> None:
    stats.tasks += 1
    stats.retries += retry_count
    stats.retried += 1 if retry_count else 0


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


SUMMARY_COLUMNS = ("task", "tasks", "done", "failed", "retried", "retries", "p50", "p99")


def summary_table(kinds: dict[str, KindStats], wall: float, where: str) -> TextTable:
    """One row per task kind and a total row."""
    table = TextTable(f"Demo summary ({where})", SUMMARY_COLUMNS, frozenset(SUMMARY_COLUMNS[1:]))
    total = KindStats()
    for name in sorted(kinds):
        stats = kinds[name]
        total.add(stats)
        table.add_row(name, *_cells(stats))
    table.add_section()
    table.add_row(Styled("all", "bold"), *_cells(total))
    throughput = (total.done + total.failed) / wall if wall > 0 else 0.0
    table.caption = (
        f"{total.done + total.failed} tasks in {wall:.1f} s: throughput {throughput:.1f} tasks/s, "
        f"latency p50 {_ms(percentile(total.latencies, 50))}, "
        f"p99 {_ms(percentile(total.latencies, 99))}"
    )
    return table


def _cells(stats: KindStats) -> list[Cell]:
    return [
        str(stats.tasks),
        str(stats.done),
        Styled(str(stats.failed), "red" if stats.failed else ""),
        str(stats.retried),
        str(stats.retries),
        _ms(percentile(stats.latencies, 50)),
        _ms(percentile(stats.latencies, 99)),
    ]
