"""Settling: the outcome of a claim, written only while the claim still holds (fencing)."""

from __future__ import annotations

import time

import pytest

from ...backend import Backend, Claim, Outcome
from ...errors import Failed, NoResult, NotFound
from ..support import alive, claim_one, make_task, wait_until


class SettleContract:
    """settle: succeeded, failed, retried, released, discarded; fenced by the claim."""

    # -- outcomes --------------------------------------------------------------

    def test_succeeded_task_has_a_result(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim = claim_one(backend)
        assert backend.settle(Outcome.succeeded(claim, b"\x00result\xff")) == [True]
        found, result = backend.get_result(task.id)
        assert (found.id, result) == (task.id, b"\x00result\xff")
        assert backend.get_stage_info(10) == []
        assert backend.get_done_task_ids(None, None, 10) == [task.id]

    def test_failed_task_raises_failed_with_its_message(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        message = "Traceback ...\nValueError: \u00e9\u00e8 \U0001f600 'quoted' \"double\""
        assert backend.settle(Outcome.failed(claim_one(backend), message)) == [True]
        with pytest.raises(Failed) as info:
            backend.get_result(task.id)
        assert info.value.message == message
        assert info.value.task.id == task.id
        assert backend.get_done_task_ids(None, None, 10) == [task.id]

    def test_retried_task_is_queued_again_later(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        before = time.time()
        assert backend.settle(Outcome.retried(claim_one(backend), 3600)) == [True]
        (queued,) = backend.get_queued_tasks("g", 10)
        assert queued.retry_count == 1
        assert queued.due >= before + 3600 - 5
        assert backend.claim_tasks("g", "w1") == []

    def test_retried_task_with_no_delay_is_claimable_again(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        backend.settle(Outcome.retried(claim_one(backend), 0))
        claim = wait_until(lambda: backend.claim_tasks("g", "w2"), timeout=5)[0]
        assert (claim.task.id, claim.task.retry_count, claim.attempt) == (task.id, 1, 2)

    def test_released_task_is_claimable_again_unchanged(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        released = claim_one(backend)
        assert backend.settle(Outcome.released(released)) == [True]
        claim = claim_one(backend, worker="w2")
        assert (claim.task.id, claim.task.retry_count) == (task.id, 0)
        assert claim.attempt == released.attempt, "a release gives its attempt back"
        assert backend.settle(Outcome.succeeded(released, b"x")) == [False]

    def test_discarded_task_is_gone(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        assert backend.settle(Outcome.discarded(claim_one(backend))) == [True]
        with pytest.raises(NotFound):
            backend.get_result(task.id)
        assert backend.lookup_tasks(task.id) == {task.id: None}

    def test_settle_applies_many_outcomes_in_order(self, backend: Backend) -> None:
        tasks = [make_task(data=i) for i in range(3)]
        backend.put_tasks(*tasks)
        claims = {c.task.id: c for c in backend.claim_tasks("g", "w1", 3)}
        ok, failed, discarded = (claims[t.id] for t in tasks)
        stale = Claim(tasks[0], "w1", 99, 0.0)
        answers = backend.settle(
            Outcome.succeeded(ok, b"1"),
            Outcome.failed(failed, "no"),
            Outcome.discarded(discarded),
            Outcome.failed(stale, "late"),
        )
        assert answers == [True, True, True, False]
        assert backend.get_result(tasks[0].id)[1] == b"1"

    # -- fencing ---------------------------------------------------------------

    def test_settle_by_another_worker_is_refused(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim = claim_one(backend, worker="w1")
        impostor = Claim(claim.task, "w2", claim.attempt, claim.began)
        assert backend.settle(Outcome.succeeded(impostor, b"x")) == [False]
        with pytest.raises(NoResult):
            backend.get_result(task.id)

    def test_a_second_settle_of_one_claim_is_refused(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        claim = claim_one(backend)
        assert backend.settle(Outcome.succeeded(claim, b"first")) == [True]
        assert backend.settle(Outcome.succeeded(claim, b"second")) == [False]
        assert backend.settle(Outcome.retried(claim, 0)) == [False]
        assert backend.get_result(task.id)[1] == b"first"

    def test_late_write_of_a_stale_worker_is_refused(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        stale = claim_one(backend, worker="zombie")  # no lease: counts as dead
        assert [i.task_id for i in backend.restore_abandoned(10)] == [task.id]
        alive(backend, "w2")
        fresh = claim_one(backend, worker="w2")
        assert fresh.attempt == stale.attempt + 1
        assert backend.settle(Outcome.succeeded(stale, b"zombie")) == [False]
        assert backend.settle(Outcome.succeeded(fresh, b"w2")) == [True]
        assert backend.settle(Outcome.failed(stale, "zombie")) == [False]
        assert backend.get_result(task.id)[1] == b"w2"
