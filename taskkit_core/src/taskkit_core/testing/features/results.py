"""Reading results: get_result, done and disposable ids, discarding, status counts, Result.get."""

from __future__ import annotations

import time

import pytest

from ...backend import Backend, Outcome
from ...errors import Failed, NoResult, NotFound
from ...kit import Kit
from ...result import ResultGetPrevented, ResultGetTimedOut
from ..support import (
    Start,
    claim_one,
    gone,
    make_task,
    wait_until,
)


class ResultContract:
    """What a backend answers about finished tasks."""

    def test_unfinished_task_has_no_result_yet(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        with pytest.raises(NoResult):
            backend.get_result(task.id)
        claim_one(backend)
        with pytest.raises(NoResult):
            backend.get_result(task.id)

    def test_result_of_unknown_task_is_not_found(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.get_result("nosuchid")

    def test_done_ids_honour_since_until_and_limit(self, backend: Backend) -> None:
        tasks = [make_task(data=i) for i in range(3)]
        backend.put_tasks(*tasks)
        for _ in tasks:
            claim = claim_one(backend)
            backend.settle(Outcome.succeeded(claim, b""))
            time.sleep(0.05)
        done = backend.get_done_task_ids(None, None, 10)
        assert sorted(done) == sorted(t.id for t in tasks)
        assert len(backend.get_done_task_ids(None, None, 2)) == 2
        assert backend.get_done_task_ids(time.time() + 3600, None, 10) == []
        assert backend.get_done_task_ids(None, time.time() - 3600, 10) == []

    def test_finished_tasks_become_disposable_after_their_ttl(self, backend: Backend) -> None:
        short, long = make_task(ttl=0.5), make_task(ttl=3600)
        backend.put_tasks(short, long)
        for claim in backend.claim_tasks("g", "w1", 2):
            backend.settle(Outcome.succeeded(claim, b"r"))
        assert backend.get_disposable_task_ids(10) == []
        assert wait_until(lambda: backend.get_disposable_task_ids(10), timeout=10) == [short.id]

    def test_discard_tasks_removes_them_in_any_state(self, backend: Backend) -> None:
        queued, staged, done = (make_task(data=i) for i in range(3))
        backend.put_tasks(staged)
        claim_one(backend)
        backend.put_tasks(done)
        backend.settle(Outcome.succeeded(claim_one(backend), b""))
        backend.put_tasks(queued)
        backend.discard_tasks(queued.id, staged.id, done.id, "unknown")
        assert set(backend.lookup_tasks(queued.id, staged.id, done.id).values()) == {None}
        assert backend.get_stage_info(10) == []
        assert backend.get_done_task_ids(None, None, 10) == []

    def test_eager_outcomes_are_stored_as_done(self, backend: Backend) -> None:
        good, bad = make_task(), make_task()
        backend.put_done_task(good, result=b"ok")
        backend.put_done_task(bad, error="it broke")
        assert backend.get_result(good.id) == (good, b"ok")
        with pytest.raises(Failed, match="it broke"):
            backend.get_result(bad.id)
        assert backend.claim_tasks("g", "w1", 10) == []

    def test_group_stats_count_each_state(self, backend: Backend) -> None:
        since = time.time() - 60
        backend.put_tasks(*(make_task(group="a", data=i) for i in range(5)))
        backend.put_tasks(make_task(group="a", due=time.time() + 3600))
        backend.put_tasks(make_task(group="b"))
        claims = backend.claim_tasks("a", "w1", 4)
        backend.settle(Outcome.succeeded(claims[0], b""), Outcome.failed(claims[1], "x"))
        stats = {s.group: s for s in backend.group_stats(since)}
        a = stats["a"]
        assert (a.queued, a.due, a.staged, a.done, a.failed) == (2, 1, 2, 1, 1)
        assert a.oldest_due is not None and a.oldest_due <= time.time()
        assert (stats["b"].queued, stats["b"].due) == (1, 1)


class ResultWaitContract:
    """Result.get as an application uses it: timeouts, waits inside tasks, ttl."""

    def test_result_get_times_out(self, kit: Kit) -> None:
        result = kit.initiate_task("g", "echo", 1)
        start = time.monotonic()
        with pytest.raises(ResultGetTimedOut):
            result.get(timeout=0.3)
        assert time.monotonic() - start < 3

    def test_waiting_for_a_result_inside_a_task_is_prevented(
        self, kit: Kit, start_threads: Start
    ) -> None:
        prevented = kit.initiate_task("g", "wait_result", None)
        allowed = kit.initiate_task("g", "wait_result_allowed", None)
        start_threads()
        with pytest.raises(Failed, match="ResultGetPrevented"):
            prevented.get(timeout=10)
        assert allowed.get(timeout=10) == 1

    def test_result_get_outside_a_task_is_not_prevented(self, kit: Kit) -> None:
        result = kit.initiate_task("g", "echo", 3, eager=True)
        try:
            assert result.get(timeout=1) == 3
        except ResultGetPrevented:  # pragma: no cover - the failure this test looks for
            pytest.fail("Result.get was prevented outside any task")

    def test_results_disappear_after_their_ttl(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "echo", 1, ttl=0.5)
        start_threads()
        assert result.get(timeout=10) == 1
        wait_until(lambda: gone(kit.backend, result.task_id), timeout=15)
