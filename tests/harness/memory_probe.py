"""A worker's own view of its memory, for the soak (R27): RSS, Python's and malloc's share.

When ``TASKKIT_MEMORY_PROBE_DIR`` is set, a worker process that runs the
reliability handler starts ``tracemalloc`` and a thread that writes one JSON
line every ``TASKKIT_MEMORY_PROBE_INTERVAL`` seconds (default 10) to
``mem-<pid>.jsonl`` in that directory: RSS, the bytes Python objects hold
(tracemalloc), the bytes glibc's heap has handed out (``mallinfo2``: in use,
and kept but free), and the five allocation sites that grew most since the
first sample. RSS growing while the two in-use figures stay flat is
allocator retention; a growing site is a leak, named.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

DIR_ENV = "TASKKIT_MEMORY_PROBE_DIR"
INTERVAL_ENV = "TASKKIT_MEMORY_PROBE_INTERVAL"
_started = threading.Lock()
_running: set[int] = set()


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def start_if_asked() -> None:
    """Start the probe once per process when the environment asks for it."""
    directory = os.environ.get(DIR_ENV)
    with _started:
        if not directory or os.getpid() in _running:
            return
        _running.add(os.getpid())
    interval = float(os.environ.get(INTERVAL_ENV, "10"))
    tracemalloc.start(1)
    threading.Thread(target=_sample_forever, args=(Path(directory), interval), daemon=True).start()


def _sample_forever(directory: Path, interval: float) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"mem-{os.getpid()}.jsonl"
    first = tracemalloc.take_snapshot()
    began = time.time()
    while True:
        line = json.dumps({"at": time.time(), "s": round(time.time() - began, 1), **sample(first)})
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        time.sleep(interval)


def sample(first: tracemalloc.Snapshot) -> dict[str, Any]:
    """One measurement: RSS, tracemalloc's total and top growth, glibc's heap."""
    snapshot = tracemalloc.take_snapshot()
    growth = snapshot.compare_to(first, "lineno")[:5]
    return {
        "rss_kib": _rss_kib(),
        "traced_kib": tracemalloc.get_traced_memory()[0] // 1024,
        **_heap(),
        "top_growth": [f"{stat.traceback[0]} {stat.size_diff // 1024:+d} KiB" for stat in growth],
    }


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _heap() -> dict[str, int]:
    """glibc's in-use and free-but-kept heap in KiB (empty where there is no mallinfo2)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallinfo2"):
        return {}
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return {
        "heap_in_use_kib": (info.uordblks + info.hblkhd) // 1024,
        "heap_free_kept_kib": info.fordblks // 1024,
    }
