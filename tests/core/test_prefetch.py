"""Tasks claimed ahead: enough to keep threads busy through a slow claim, within bounds."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from taskkit_core.worker.prefetch import MAX_FACTOR, Prefetch

from taskkit_core import Backend, Claim, InitiateTaskArgs, JsonHandler, Kit, Task, WorkerSettings


def fitted(threads: int, task_s: float, claim_s: float, fixed: int | None = None) -> int:
    prefetch = Prefetch(threads, fixed)
    for _ in range(20):
        prefetch.task_ran(task_s)
        prefetch.claimed(claim_s)
    return prefetch.extra


def test_long_tasks_keep_one_task_ahead_per_thread() -> None:
    assert fitted(8, task_s=1.0, claim_s=0.005) == 8


def test_short_tasks_behind_a_slow_claim_get_more_ahead_up_to_a_bound() -> None:
    assert fitted(8, task_s=0.010, claim_s=0.010) == 16  # two claims' worth of work
    assert fitted(8, task_s=0.001, claim_s=0.050) == MAX_FACTOR * 8


def test_a_prefetch_the_application_set_is_kept() -> None:
    assert fitted(8, task_s=0.001, claim_s=0.050, fixed=0) == 0
    assert fitted(8, task_s=0.001, claim_s=0.050, fixed=3) == 3


def test_one_slow_claim_counts_at_once_and_is_forgotten_slowly() -> None:
    prefetch = Prefetch(4, None)
    prefetch.task_ran(0.010)
    prefetch.claimed(0.040)
    assert prefetch.extra == MAX_FACTOR * 4
    prefetch.claimed(0.001)
    assert prefetch.extra > 4


class SlowClaims:
    """A backend whose claim round trip takes ``delay`` seconds (a loaded server)."""

    def __init__(self, backend: Backend, delay: float) -> None:
        self._backend, self._delay = backend, delay

    def claim_tasks(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        time.sleep(self._delay)
        return self._backend.claim_tasks(group, worker_id, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


class Quick(JsonHandler):
    def __init__(self) -> None:
        self.done = threading.Semaphore(0)

    def handle(self, task: Task) -> None:
        time.sleep(0.001)
        self.done.release()

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None


def drain_behind_slow_claims(settings: WorkerSettings | None, tasks: int) -> int:
    """Run ``tasks`` 1 ms tasks on 4 threads whose claims take 20 ms; the pool's capacity."""
    handler = Quick()
    namespace = f"prefetch_{secrets.token_hex(4)}"
    kit = Kit.from_url("memory://", handler, namespace=namespace, settings=settings)
    try:
        items: list[InitiateTaskArgs] = [
            {"group": "g", "name": "t", "data": i} for i in range(tasks * 2)
        ]
        kit.initiate_tasks(*items)
        runtime = kit.start_threads({"g": 4})
        try:
            pool = runtime.pools["g"]
            pool.backend = SlowClaims(pool.backend, 0.02)  # type: ignore[assignment]
            for _ in range(tasks):
                assert handler.done.acquire(timeout=10)
            return pool.capacity
        finally:
            runtime.stop(timeout=10)
    finally:
        kit.close()


def test_a_group_behind_slow_claims_claims_further_ahead() -> None:
    assert drain_behind_slow_claims(None, 200) == 4 + MAX_FACTOR * 4


def test_a_fixed_prefetch_holds_behind_slow_claims() -> None:
    assert drain_behind_slow_claims(WorkerSettings(prefetch=1), 40) == 4 + 1
