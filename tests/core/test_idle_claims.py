"""A worker serving many groups: idle claims within idle_claim_rate, new tasks start at once,
and the outcomes of all its groups are written in common batches."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from taskkit_core import (
    Claim,
    InitiateTaskArgs,
    JsonHandler,
    Kit,
    Outcome,
    Task,
    WorkerRuntime,
    WorkerSettings,
)

GROUPS = [f"g{i:02d}" for i in range(40)]


class Started(JsonHandler):
    def __init__(self) -> None:
        self.started = threading.Event()

    def handle(self, task: Task) -> None:
        self.started.set()

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        return None


class CountedClaims:
    """A backend that counts claim round trips and notes the groups of each settle."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.claims = 0
        self.settled_groups: list[set[str]] = []

    def settle(self, *outcomes: Outcome) -> list[bool]:
        self.settled_groups.append({o.claim.task.group for o in outcomes})
        time.sleep(0.02)  # a round trip: outcomes that come meanwhile wait for the next one
        return list(self._backend.settle(*outcomes))

    def claim_tasks(self, group: str, worker_id: str, limit: int) -> list[Claim]:
        self.claims += 1
        return list(self._backend.claim_tasks(group, worker_id, limit))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def idle_claims_per_second(runtime: WorkerRuntime, seconds: float) -> float:
    """Claims the runtime's idle groups make per second over ``seconds``."""
    counter = CountedClaims(runtime.backend)
    for pool in runtime.pools.values():
        pool.backend = counter  # type: ignore[assignment]
    time.sleep(seconds)
    return counter.claims / seconds


def start(settings: WorkerSettings, handler: Started) -> tuple[Kit, WorkerRuntime]:
    namespace = f"idle_{secrets.token_hex(4)}"
    kit = Kit.from_url("memory://", handler, namespace=namespace, settings=settings)
    runtime = kit.start_threads(dict.fromkeys(GROUPS, 1), polling_interval=0.2)
    return kit, runtime


def test_idle_groups_together_claim_at_most_the_idle_claim_rate() -> None:
    kit, runtime = start(WorkerSettings(idle_claim_rate=10), Started())
    try:
        time.sleep(0.5)  # every group's first claim
        assert idle_claims_per_second(runtime, 2.0) <= 10 * 1.5
    finally:
        runtime.stop(timeout=5)
        kit.close()


def test_without_a_bound_each_group_polls_at_its_interval() -> None:
    kit, runtime = start(WorkerSettings(idle_claim_rate=None), Started())
    try:
        time.sleep(0.5)
        assert idle_claims_per_second(runtime, 1.0) >= len(GROUPS) / 0.2 / 2
    finally:
        runtime.stop(timeout=5)
        kit.close()


def test_a_task_put_in_a_quiet_group_starts_at_once() -> None:
    handler = Started()
    kit, runtime = start(WorkerSettings(idle_claim_rate=1), handler)
    try:
        time.sleep(0.5)  # every group has looked once; the next look is 40 s away
        kit.initiate_task(GROUPS[-1], "t", None)
        assert handler.started.wait(2)
    finally:
        runtime.stop(timeout=5)
        kit.close()


def test_outcomes_of_many_groups_are_settled_together() -> None:
    handler = Started()
    kit, runtime = start(WorkerSettings(), handler)
    try:
        counter = CountedClaims(runtime.backend)
        runtime.settler.backend = counter  # type: ignore[assignment]
        items: list[InitiateTaskArgs] = [
            {"group": g, "name": "t", "data": i} for i, g in enumerate(GROUPS * 5)
        ]
        kit.initiate_tasks(*items)
        deadline = time.monotonic() + 10
        while sum(map(len, counter.settled_groups)) < len(GROUPS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert max(len(groups) for groups in counter.settled_groups) > 1
    finally:
        runtime.stop(timeout=5)
        kit.close()
