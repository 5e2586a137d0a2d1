"""Per-thread tallies of task metrics, added into prometheus_client once a second.

prometheus_client takes a lock for every value it updates (and, in
multiprocess mode, writes the value to its file): seven updates a task,
which eight worker threads contend on. Instead, each thread counts into a
:class:`Tally` per (group, task name) that only it writes: plain integers
in one list, bucket counts already sorted by ``bisect``. One flusher
thread per process (:meth:`Tallies.flush`, every :data:`FLUSH_SECONDS`,
at once when a worker runtime stops, and at exit) reads each tally as one list
copy and adds what changed since its last read to the metrics. A scrape
is then at most a second behind the tasks, and a task costs list
increments instead of locks (benchmarks/RESULTS.md, issue 17).

Reading without a lock is safe because one thread writes each tally and
the flusher reads a whole list in one copy, so it sees its counts as of
one instant; the next flush adds whatever a thread counted meanwhile.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from bisect import bisect_left
from typing import Any

from .metrics import RUN_BUCKETS, WAIT_BUCKETS, Metrics, metrics

FLUSH_SECONDS = 1.0
"""How far behind its tasks a scrape may be (Prometheus scrapes every 15 s or more)."""

ENQUEUED, STARTED, RAN, TIMEOUTS = 0, 1, 2, 3
WAITS = 4  # the queue-wait buckets start here (the last one is +Inf)
RUNS = WAITS + len(WAIT_BUCKETS) + 1
SIZE = RUNS + len(RUN_BUCKETS) + 1


class _Seen:
    """What the flusher last added of one tally (only the flusher touches it)."""

    __slots__ = ("counts", "outcomes", "run_sum", "shown", "wait_sum")

    def __init__(self) -> None:
        self.shown = False
        self.counts = [0] * SIZE
        self.outcomes: dict[str, int] = {}
        self.wait_sum = 0.0
        self.run_sum = 0.0


class Tally:
    """One thread's counts for one (group, task name); only that thread writes it."""

    __slots__ = ("counts", "labels", "outcomes", "run_sum", "seen", "wait_sum")

    def __init__(self, labels: tuple[str, str]) -> None:
        self.labels = labels
        self.counts = [0] * SIZE
        self.outcomes: dict[str, int] = {}
        self.wait_sum = 0.0
        self.run_sum = 0.0
        self.seen = _Seen()  # the flusher's: what it already added

    def enqueued(self) -> None:
        self.counts[ENQUEUED] += 1

    def timed_out(self) -> None:
        self.counts[TIMEOUTS] += 1

    def started(self, wait: float) -> None:
        counts = self.counts
        counts[STARTED] += 1
        counts[WAITS + bisect_left(WAIT_BUCKETS, wait)] += 1
        self.wait_sum += wait

    def ended(self, kind: str, run_time: float | None) -> None:
        if run_time is not None:  # it ran (not released, nor out of attempts)
            counts = self.counts
            counts[RAN] += 1
            counts[RUNS + bisect_left(RUN_BUCKETS, run_time)] += 1
            self.run_sum += run_time
        self.outcomes[kind] = self.outcomes.get(kind, 0) + 1  # after the run: see _add


class Tallies:
    """Every thread's tallies in this process, and the flusher that adds them up."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._threads: list[tuple[threading.Thread, dict[tuple[str, str], Tally]]] = []
        self._lock = threading.Lock()  # taken once per new thread, and by flush
        self._flusher: threading.Thread | None = None

    def of(self, group: str, name: str) -> Tally:
        """The calling thread's tally of (``group``, ``name``)."""
        try:
            return self._local.tallies[group, name]  # type: ignore[no-any-return]
        except (AttributeError, KeyError):
            return self._new(group, name)

    def _new(self, group: str, name: str) -> Tally:
        mine: dict[tuple[str, str], Tally] | None = getattr(self._local, "tallies", None)
        if mine is None:
            mine = self._local.tallies = {}
            with self._lock:
                self._threads.append((threading.current_thread(), mine))
                self._start_flusher()
        tally = mine[group, name] = Tally((group, name))
        return tally

    def _start_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(
                target=self._run, name="taskkit-metrics-flush", daemon=True
            )
            self._flusher.start()

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        """Add every count that changed since the last flush to the metrics."""
        with self._lock:
            if not self._threads:
                return  # nothing counted: do not make the metrics (at exit, say)
            m = metrics()
            for entry in list(self._threads):
                thread, mine = entry
                finished = not thread.is_alive()  # read before the counts: they are final then
                for tally in list(mine.values()):
                    _add(m, tally)
                if finished:
                    self._threads.remove(entry)

    def forget(self) -> None:
        """Start empty (in a forked child: the parent's counts are the parent's to add)."""
        self._local = threading.local()
        self._threads = []
        self._lock = threading.Lock()
        self._flusher = None


def _add(m: Metrics, tally: Tally) -> None:
    """Add what changed in ``tally`` since the last flush to the metrics."""
    # Outcomes first: a thread counts a run before its outcome, so every outcome
    # read here has its run in the counts read next (the running gauge is exact
    # whenever the outcomes are).
    outcomes = list(tally.outcomes.items())
    counts, wait_sum, run_sum = tally.counts[:], tally.wait_sum, tally.run_sum
    seen, labels = tally.seen, tally.labels
    change = [now - before for now, before in zip(counts, seen.counts, strict=True)]
    for kind, count in outcomes:
        added = count - seen.outcomes.get(kind, 0)
        if added:
            m.outcomes.labels(*labels, kind).inc(added)
            seen.outcomes[kind] = count
    _inc(m.enqueued, labels, change[ENQUEUED])
    _inc(m.timeouts, labels, change[TIMEOUTS])
    if not seen.shown:  # every series of a task name exists from its first event, at 0
        _show(m, labels)
        seen.shown = True
    if change[STARTED] or change[RAN]:
        m.running.labels(*labels).inc(change[STARTED] - change[RAN])
    if change[STARTED]:
        waits = m.queue_wait.labels(*labels)
        add_observations(waits, change[WAITS:RUNS], wait_sum - seen.wait_sum)
    if change[RAN]:
        add_observations(m.run_time.labels(*labels), change[RUNS:], run_sum - seen.run_sum)
    seen.counts, seen.wait_sum, seen.run_sum = counts, wait_sum, run_sum


def _show(m: Metrics, labels: tuple[str, str]) -> None:
    """Make the series of one (group, task name), so a scrape shows them at 0."""
    for metric in (m.enqueued, m.timeouts, m.running, m.queue_wait, m.run_time):
        metric.labels(*labels)


def _inc(counter: Any, labels: tuple[str, str], amount: int) -> None:
    if amount:
        counter.labels(*labels).inc(amount)


def add_observations(histogram: Any, buckets: list[int], total: float) -> None:
    """Add observations already counted per bucket to a labelled ``histogram``.

    What ``observe`` does once per value, done once per bucket. prometheus_client
    has no public call for it, so this uses its per-bucket values (``_buckets``,
    ``_sum``); tests/cli/test_metrics.py reads them back through a scrape.
    """
    for index, count in enumerate(buckets):
        if count:
            histogram._buckets[index].inc(count)
    histogram._sum.inc(total)


tallies = Tallies()
"""The tallies of this process."""

atexit.register(tallies.flush)
os.register_at_fork(after_in_child=tallies.forget)
