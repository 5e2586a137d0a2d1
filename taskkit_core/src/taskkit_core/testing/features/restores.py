"""Restores: tasks staged to dead workers go back to the queue and finish elsewhere."""

from __future__ import annotations

import threading
import time

from ...backend import Backend, Claim, Outcome
from ...kit import Kit
from ..support import (
    RecordingHandler,
    Start,
    alive,
    claim_one,
    make_task,
    wait_until,
)


class RestoreContract:
    """restore_abandoned: only tasks of workers without a live lease, within its limit."""

    def test_tasks_of_workers_without_lease_are_restored(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim_one(backend, worker="gone")
        (info,) = backend.restore_abandoned(10)
        assert (info.worker_id, info.task_id, info.attempt) == ("gone", task.id, 1)
        assert [t.id for t in backend.get_queued_tasks("g", 10)] == [task.id]
        assert backend.restore_abandoned(10) == []

    def test_tasks_of_live_workers_are_not_restored(self, backend: Backend) -> None:
        backend.put_tasks(make_task())
        alive(backend, "w1")
        claim_one(backend, worker="w1")
        assert backend.restore_abandoned(10) == []
        assert len(backend.get_stage_info(10)) == 1

    def test_tasks_of_workers_whose_lease_expired_are_restored(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        alive(backend, "short", ttl=0.5)
        claim_one(backend, worker="short")
        assert backend.restore_abandoned(10) == []
        restored = wait_until(lambda: backend.restore_abandoned(10), timeout=10)
        assert [i.task_id for i in restored] == [task.id]

    def test_a_worker_racing_a_restore_keeps_its_task_or_loses_it(self, backend: Backend) -> None:
        for round_ in range(RACE_ROUNDS):
            task = make_task(data=round_)
            backend.put_tasks(task)
            claim = claim_one(backend, worker="racer")  # a worker whose lease ran out...
            accepted, restored = _race_return_and_restore(backend, claim)  # ...comes back
            queued = task.id in {t.id for t in backend.get_queued_tasks("g", 100)}
            if accepted:  # it kept its task: its outcome stands, nothing was queued again
                assert not restored and not queued, (
                    f"round {round_}: the worker's outcome was written and the task was "
                    "restored too: a restore must requeue only while the task is staged, "
                    "in one atomic step"
                )
                assert backend.get_result(task.id)[1] == b"1"
            else:  # it lost its task: restored, and its late outcome refused
                assert restored and queued, f"round {round_}: the outcome was refused for nothing"
            backend.drop_leases({"racer"})
            backend.discard_tasks(task.id)

    def test_restore_respects_its_limit(self, backend: Backend) -> None:
        backend.put_tasks(*(make_task(data=i) for i in range(5)))
        backend.claim_tasks("g", "gone", 5)
        assert len(backend.restore_abandoned(2)) == 2
        assert len(backend.restore_abandoned(10)) == 3


RACE_ROUNDS = 30
"""Rounds of a returning worker against a restore (each starts both at once)."""


def _race_return_and_restore(backend: Backend, claim: Claim) -> tuple[bool, bool]:
    """(whether the worker's outcome was accepted, whether a restore took its task).

    On one thread the worker of ``claim`` comes back: it refreshes its lease
    and writes its outcome; on another a restore runs; both start together.
    """
    start = threading.Barrier(2)
    accepted: list[bool] = []
    restored: list[str] = []

    def come_back() -> None:
        start.wait()
        backend.refresh_leases({claim.worker_id}, 60)
        accepted.extend(backend.settle(Outcome.succeeded(claim, b"1")))

    def restore() -> None:
        start.wait()
        restored.extend(i.task_id for i in backend.restore_abandoned(100))

    threads = [threading.Thread(target=come_back), threading.Thread(target=restore)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return accepted == [True], claim.task.id in restored


class RecoveryContract:
    """What an application sees when a worker dies or stalls: the task still finishes once."""

    def test_the_task_of_a_dead_worker_is_restored_and_finished(
        self, kit: Kit, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "echo", "rescued")
        (claim,) = kit.backend.claim_tasks("g", "dead-worker", 1)  # a worker that then died
        start_threads({"g": 1})
        assert result.get(timeout=20) == "rescued"
        assert kit.backend.settle(Outcome.succeeded(claim, b'"late"')) == [False]
        assert result.get(timeout=1) == "rescued"

    def test_a_stale_workers_late_write_is_refused(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "echo", "fresh")
        kit.backend.refresh_leases({"paused-worker"}, 0.5)
        (stale,) = kit.backend.claim_tasks("g", "paused-worker", 1)
        start_threads({"g": 1})
        assert result.get(timeout=20) == "fresh"
        assert kit.backend.settle(Outcome.succeeded(stale, b'"stale"')) == [False]
        assert kit.backend.settle(Outcome.failed(stale, "stale")) == [False]
        assert result.get(timeout=1) == "fresh"

    def test_without_helper_services_nothing_is_restored(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        result = kit.initiate_task("g", "echo", 1)
        kit.backend.claim_tasks("g", "dead-worker", 1)
        start_threads({"g": 1}, helper_services=False)
        time.sleep(2.0)
        assert handler.ran(result.task_id) == []
        assert len(kit.backend.get_stage_info(10)) == 1
