"""Timings read from the execution history: in flight, resume, throughput, latency.

All times are wall-clock seconds (``time.time()``) as the handler wrote
them; the test process and the workers share one host clock.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.history import read_history


def finished(history_dir: Path) -> int:
    """How many executions have ended so far (cheap enough to poll)."""
    return sum(
        path.read_text(encoding="utf-8").count('"event": "end"')
        for path in history_dir.glob("exec-*.jsonl")
    )


def wait_finished(history_dir: Path, count: int, timeout: float) -> None:
    """Wait until ``count`` executions ended; raise on timeout."""
    deadline = time.monotonic() + timeout
    while finished(history_dir) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {finished(history_dir)} of {count} executions ended")
        time.sleep(0.1)


def starts(history_dir: Path) -> list[dict[str, Any]]:
    return [r for r in read_history(history_dir, "exec") if r["event"] == "start"]


def in_flight(history_dir: Path, at: float) -> int:
    """Executions that had started and not ended at ``at``."""
    records = read_history(history_dir, "exec")
    ended_before = {
        (r["task_id"], r["attempt"], r["worker"])
        for r in records
        if r["event"] == "end" and r["at"] <= at
    }
    return sum(
        1
        for r in records
        if r["event"] == "start"
        and r["at"] <= at
        and (r["task_id"], r["attempt"], r["worker"]) not in ended_before
    )


def resume_delays(history_dir: Path, since: float) -> dict[int, float]:
    """Per worker pid, seconds from ``since`` to its first start after it."""
    first: dict[int, float] = {}
    for record in starts(history_dir):
        if record["at"] >= since:
            pid = int(record["pid"])
            first[pid] = min(first.get(pid, math.inf), record["at"] - since)
    return first


def rate(history_dir: Path, begin: float, end: float) -> float:
    """Executions started per second in [begin, end)."""
    count = sum(1 for r in starts(history_dir) if begin <= r["at"] < end)
    return count / max(end - begin, 1e-9)


def recovery_time(
    history_dir: Path, since: float, baseline: float, *, share: float = 0.8, window: float = 1.0
) -> float | None:
    """Seconds after ``since`` until a ``window`` s starts >= ``share`` of ``baseline``/s."""
    times = sorted(float(r["at"]) for r in starts(history_dir) if r["at"] >= since)
    needed = share * baseline * window
    for index, begin in enumerate(times):
        count = sum(1 for t in times[index:] if t < begin + window)
        if count >= needed:
            return begin - since
    return None


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0-1) quantile by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Sampler(threading.Thread):
    """Calls ``probe`` every ``interval`` s on a thread until stopped; keeps the results."""

    def __init__(self, probe: Callable[[], Any], interval: float) -> None:
        super().__init__(daemon=True)
        self.probe = probe
        self.interval = interval
        self.samples: list[tuple[float, Any]] = []
        self.errors: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append((time.time(), self.probe()))
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop_event.wait(self.interval)

    def stop(self) -> list[tuple[float, Any]]:
        self._stop_event.set()
        self.join(30)
        return self.samples


class CallTimer(Sampler):
    """Times one backend call in a loop: the longest any call blocked, errors included."""

    def __init__(self, call: Callable[[], Any], interval: float = 0.1) -> None:
        super().__init__(self._timed, interval)
        self.call = call
        self.longest = 0.0

    def _timed(self) -> float:
        began = time.monotonic()
        try:
            self.call()
        finally:
            self.longest = max(self.longest, time.monotonic() - began)
        return time.monotonic() - began


RSS_GROWTH_LIMIT_KIB = 30 * 1024
"""What a worker's RSS may gain after warm-up. The 30-minute MariaDB soak (RELIABILITY.md)
levelled off at +18 MiB: glibc keeps the heap that reconnect bursts raised."""
RSS_STILL_GROWING_FLOOR_KIB = 3 * 1024
"""Second-half growth below this is noise, whatever the first half did."""


def rss_levelled_off(warm_kib: int, after_warm_up: list[int]) -> str | None:
    """None when RSS stayed bounded and levelled off after warm-up, else what went wrong.

    Levelling off: the second half of the samples may rise above the first
    half's peak by at most half of what the first half gained over warm-up
    (or by the floor). Memory that keeps growing at a steady rate gains as
    much in each half and fails, however long the soak.
    """
    if not after_warm_up:
        return "no RSS samples after warm-up"
    peak = max(after_warm_up)
    if peak - warm_kib > RSS_GROWTH_LIMIT_KIB:
        return f"RSS grew {(peak - warm_kib) // 1024} MiB after warm-up (limit 30)"
    half = max(1, len(after_warm_up) // 2)
    first_peak = max(after_warm_up[:half])
    first_gain = max(0, first_peak - warm_kib)
    second_gain = peak - first_peak
    if second_gain > max(first_gain // 2, RSS_STILL_GROWING_FLOOR_KIB):
        return (
            f"RSS still growing: +{first_gain // 1024} MiB in the first half after "
            f"warm-up, +{second_gain // 1024} MiB more in the second"
        )
    return None
