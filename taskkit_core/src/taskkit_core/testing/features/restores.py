"""Restores: tasks staged to dead workers go back to the queue and finish elsewhere."""

from __future__ import annotations

import time

from ...backend import Backend, Outcome
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

    def test_restore_respects_its_limit(self, backend: Backend) -> None:
        backend.put_tasks(*(make_task(data=i) for i in range(5)))
        backend.claim_tasks("g", "gone", 5)
        assert len(backend.restore_abandoned(2)) == 2
        assert len(backend.restore_abandoned(10)) == 3


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
