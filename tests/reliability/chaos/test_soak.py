"""R27: a soak with random faults, 5 minutes per backend (the plan's 30, scaled down).

Tasks arrive at 50 per second for the whole run while three worker
processes (4 threads each) take them. Faults follow a seeded random
schedule: SIGKILL of a worker every ~20 s (a new one replaces it), SIGSTOP
of a worker for 5 s every ~45 s, every connection reset through the proxy
every ~30 s and a backend restart half-way or every ~5 minutes, whichever
comes first (not SQLite: a file has no server and no connection to reset).
One worker is never touched: its open files are compared after warm-up and
at the end, and its RSS, sampled throughout, must stay within a bound and
level off (``measure.rss_levelled_off``; the 30-minute curve that set the
bound is in RELIABILITY.md). ``TASKKIT_SOAK_SECONDS`` changes the length;
``TASKKIT_MEMORY_PROBE_DIR`` makes the workers log their own tracemalloc and
glibc heap figures (``harness/memory_probe.py``).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field

import pytest
from taskkit_core.task import Task

from taskkit_core import TaskkitProcess

from ..conftest import Workload
from .conftest import SERVER_BACKENDS, Chaos, MakeChaos, Proxies
from .measure import Sampler, open_fds, rss_kib, rss_levelled_off

pytestmark = pytest.mark.chaos

SOAK = float(os.environ.get("TASKKIT_SOAK_SECONDS", "300"))
WARM_UP = min(60.0, SOAK / 4)
SAMPLE_EVERY = max(1.0, min(10.0, SOAK / 60))
"""Seconds between RSS samples of the untouched worker (10 s in a 30-minute soak)."""
RATE = 50
HELD_BY_ALL = 3 * 2 * 4
"""What 3 workers of 4 threads hold at most: a task per thread plus one claimed ahead."""


class Arrivals(threading.Thread):
    """Puts RATE tasks per second; ids whose put failed may still exist (``uncertain``)."""

    def __init__(self, load: Workload) -> None:
        super().__init__(daemon=True)
        self.load = load
        self.acked: list[str] = []
        self.uncertain: list[str] = []
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        kit, seq, tick = self.load.kit, 0, time.monotonic()
        while not self.halt.wait(max(0.0, tick - time.monotonic())):
            tick += 0.1  # a fixed pace: a slow put is caught up by the next ones
            tasks = []
            for _ in range(RATE // 10):
                data = {"seq": seq, "sleep": random.uniform(0.02, 0.1)}
                tasks.append(
                    Task.init("r", name="work", data=kit.handler.encode_data("r", "work", data))
                )
                seq += 1
            try:
                kit.backend.put_tasks(*tasks)
            except Exception:
                self.errors += 1
                self.uncertain += [t.id for t in tasks]
                continue
            self.acked += [t.id for t in tasks]


@dataclass
class Faults:
    """What was injected, and how many tasks each fault could have run twice."""

    kills: int = 0
    stops: int = 0
    resets: int = 0
    restarts: int = 0
    bound: int = 0
    log: list[str] = field(default_factory=list)


def inject(run: Chaos, proxies: Proxies, workers: list[TaskkitProcess], faults: Faults) -> None:
    """Run the fault schedule for SOAK seconds; ``workers[0]`` is never touched."""
    rng = random.Random(27)
    began = time.monotonic()
    due = {"kill": 20.0, "stop": 45.0, "reset": 30.0, "restart": min(SOAK / 2, 300.0)}
    while (now := time.monotonic() - began) < SOAK:
        for kind, at in sorted(due.items(), key=lambda item: item[1]):
            if now >= at:
                _fault(kind, run, proxies, workers, faults, rng)
                gap = {"kill": 20.0, "stop": 45.0, "reset": 30.0, "restart": 300.0}[kind]
                due[kind] = now + gap * rng.uniform(0.75, 1.25)
        time.sleep(0.2)


def _fault(
    kind: str,
    run: Chaos,
    proxies: Proxies,
    workers: list[TaskkitProcess],
    faults: Faults,
    rng: random.Random,
) -> None:
    load = run.workload
    if kind in ("kill", "stop"):
        index = rng.randrange(1, len(workers))
        victim = workers[index]
        assert victim.pid is not None
        faults.bound += len(load.held_by(victim))
        if kind == "kill":
            os.kill(victim.pid, signal.SIGKILL)
            victim.join(10)
            workers[index] = load.start(1, 4)[0]
            faults.kills += 1
        else:
            os.kill(victim.pid, signal.SIGSTOP)
            time.sleep(5.0)
            os.kill(victim.pid, signal.SIGCONT)
            faults.stops += 1
    elif run.server is None:
        return  # SQLite: no connection to reset, no server to restart
    elif kind == "reset":
        proxies.proxy.reset_all()
        faults.resets += 1
        faults.bound += HELD_BY_ALL
    else:
        run.server.restart(outage=2.0)
        faults.restarts += 1
        faults.bound += HELD_BY_ALL
    faults.log.append(f"{time.strftime('%H:%M:%S')} {kind}")


@pytest.mark.timeout(SOAK + 900)
@pytest.mark.parametrize("backend", [*SERVER_BACKENDS, "sqlite"])
def test_r27_soak_with_random_faults(chaos: MakeChaos, proxies: Proxies, backend: str) -> None:
    run = chaos(backend, url=proxies.through) if backend != "sqlite" else chaos(backend)
    load = run.workload
    arrivals = Arrivals(load)
    arrivals.start()
    workers = load.start(3, 4)
    sentinel = workers[0]
    assert sentinel.pid is not None
    faults = Faults()
    warm: dict[str, int] = {}
    timer = threading.Timer(WARM_UP, lambda: warm.update(_vitals(run, sentinel.pid or 0)))
    timer.start()
    curve = Sampler(lambda: rss_kib(sentinel.pid or 0), SAMPLE_EVERY)
    curve.start()
    began = time.time()
    try:
        inject(run, proxies, workers, faults)
    finally:
        timer.cancel()
        curve.stop()
        arrivals.halt.set()
        arrivals.join(30)
    end = _vitals(run, sentinel.pid)
    existing = load.kit.backend.lookup_tasks(*arrivals.uncertain) if arrivals.uncertain else {}
    ids = arrivals.acked + [i for i, task in existing.items() if task is not None]
    load.drain(ids, timeout=180)
    report = load.check(ids)
    run.record(
        soak_s=SOAK,
        acked=len(arrivals.acked),
        put_errors=arrivals.errors,
        report=report.summary(),
        duplicated=report.duplicated,
        duplicate_bound=faults.bound,
        kills=faults.kills,
        stops=faults.stops,
        resets=faults.resets,
        restarts=faults.restarts,
        sentinel_after_warm_up=warm,
        sentinel_at_end=end,
        sentinel_alive=sentinel.is_alive(),
        sentinel_pid=sentinel.pid,
        sentinel_rss_kib=[kib for _, kib in curve.samples],
        sentinel_rss_every_s=SAMPLE_EVERY,
    )
    report.assert_clean(max_duplicated=faults.bound)
    assert sentinel.is_alive()
    after_warm_up = [kib for at, kib in curve.samples if at >= began + WARM_UP]
    verdict = rss_levelled_off(warm["rss_kib"], [*after_warm_up, end["rss_kib"]])
    assert verdict is None, verdict
    assert end["fds"] <= warm["fds"] + 5, "open files of a worker kept growing"


def _vitals(run: Chaos, pid: int) -> dict[str, int]:
    vitals = {"rss_kib": rss_kib(pid), "fds": open_fds(pid)}
    if run.server is not None:
        vitals["server_connections"] = run.server.connections()
    return vitals
