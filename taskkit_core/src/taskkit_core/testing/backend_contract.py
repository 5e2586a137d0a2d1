"""The Backend protocol, method by method."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ..backend import Backend, Claim, Outcome
from ..errors import Failed, NoResult, NotFound
from ..task import MAX_PAYLOAD_BYTES, Task
from .support import make_task, wait_until

ODD_GROUPS = [
    "a:b",
    "a",
    "{tag}",
    "with space",
    "Foo",
    "foo",
    "Foo ",
    "fo\u00f6",
    "fo\u0308o",
    "caf\u00e9",
    "cafe\u0301",
    "grp-\U0001f600",
    "grp-\U0001f601",
    "50%",
    "a_c",
    "abc",
    "a*",
    "a[b]",
    "line\nbreak",
    "x" * 300,
    "\U0001f600" * 300,
    "'; DROP TABLE tasks;--",
]


def claim_one(backend: Backend, group: str = "g", worker: str = "w1") -> Claim:
    claims = backend.assign_tasks(group, worker, 1)
    assert len(claims) == 1, f"expected one due task in {group!r}, got {claims}"
    return claims[0]


def alive(backend: Backend, *workers: str, ttl: float = 60) -> None:
    backend.set_worker_ttl(set(workers), ttl)


class BackendContract:
    """Storage: putting, claiming, settling, restoring, reading, locks, namespaces."""

    # -- put and look up ------------------------------------------------------------

    def test_put_task_can_be_looked_up_unchanged(self, backend: Backend) -> None:
        task = Task.init("g", "echo", bytes(range(256)), due=time.time() - 1.25, ttl=123.5)
        backend.put_tasks(task)
        assert backend.lookup_tasks(task.id) == {task.id: task}

    def test_lookup_of_unknown_id_is_none(self, backend: Backend) -> None:
        assert backend.lookup_tasks("nosuchid") == {"nosuchid": None}

    def test_put_is_idempotent(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        backend.put_tasks(task)
        assert len(backend.assign_tasks("g", "w1", 10)) == 1

    def test_put_many_then_queued_in_due_order(self, backend: Backend) -> None:
        now = time.time()
        tasks = [make_task(data=i, due=now - 10 + (i % 5)) for i in range(10)]
        backend.put_tasks(*tasks)
        queued = backend.get_queued_tasks("g", 100)
        assert [t.id for t in queued] == [t.id for t in sorted(tasks, key=lambda t: (t.due, t.id))]
        assert len(backend.get_queued_tasks("g", 3)) == 3
        assert backend.get_queued_tasks("other", 10) == []

    def test_timestamps_round_trip_to_the_microsecond(self, backend: Backend) -> None:
        task = make_task(due=1700000000.123456, scheduled=1700000000.654321)
        backend.put_tasks(task)
        (found,) = backend.lookup_tasks(task.id).values()
        assert found is not None
        assert found.due == pytest.approx(task.due, abs=1e-6)
        assert found.created == pytest.approx(task.created, abs=1e-6)
        assert found.scheduled == pytest.approx(1700000000.654321, abs=1e-6)

    @pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 1024 * 1024, MAX_PAYLOAD_BYTES])
    def test_payload_and_result_sizes_round_trip(self, backend: Backend, size: int) -> None:
        data = bytes(i % 251 for i in range(size))
        task = Task.init("g", "echo", data)
        backend.put_tasks(task)
        claim = claim_one(backend)
        assert claim.task.data == data
        assert backend.settle(Outcome.succeeded(claim, data)) == [True]
        assert backend.get_result(task.id) == (claim.task, data)

    # -- claiming ---------------------------------------------------------------------

    def test_assign_takes_the_oldest_due_task_first(self, backend: Backend) -> None:
        now = time.time()
        late, early, middle = (make_task(due=now - d) for d in (1, 30, 10))
        backend.put_tasks(late, early, middle)
        order = [claim_one(backend).task.id for _ in range(3)]
        assert order == [early.id, middle.id, late.id]

    def test_assign_skips_tasks_not_yet_due(self, backend: Backend) -> None:
        backend.put_tasks(make_task(due=time.time() + 3600))
        assert backend.assign_tasks("g", "w1", 5) == []

    def test_a_task_becomes_claimable_when_due(self, backend: Backend) -> None:
        task = make_task(due=time.time() + 1.0)
        backend.put_tasks(task)
        assert backend.assign_tasks("g", "w1") == []
        claims = wait_until(lambda: backend.assign_tasks("g", "w1"), timeout=10)
        assert claims[0].task.id == task.id

    def test_assign_never_returns_more_than_the_limit(self, backend: Backend) -> None:
        backend.put_tasks(*(make_task(data=i) for i in range(10)))
        assert len(backend.assign_tasks("g", "w1", 3)) == 3
        assert len(backend.assign_tasks("g", "w1", 1)) == 1
        assert len(backend.assign_tasks("g", "w1", 100)) == 6
        assert backend.assign_tasks("g", "w1", 100) == []
        assert len(backend.get_stage_info(100)) == 10

    def test_assign_only_takes_its_own_group(self, backend: Backend) -> None:
        backend.put_tasks(make_task(group="a"), make_task(group="b"))
        (claim,) = backend.assign_tasks("a", "w1", 10)
        assert claim.task.group == "a"
        assert backend.assign_tasks("a", "w1", 10) == []

    def test_a_claim_names_worker_attempt_and_time(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        before = time.time()
        claim = claim_one(backend, worker="worker-7")
        assert (claim.task, claim.worker_id, claim.attempt) == (task, "worker-7", 1)
        assert before - 5 <= claim.began <= time.time() + 5
        (info,) = backend.get_stage_info(10)
        assert (info.worker_id, info.task_id, info.attempt) == ("worker-7", task.id, 1)

    def test_a_claimed_task_is_not_claimed_again(self, backend: Backend) -> None:
        backend.put_tasks(make_task())
        claim_one(backend, worker="w1")
        assert backend.assign_tasks("g", "w2", 10) == []

    def test_eight_threads_claim_500_tasks_each_exactly_once(self, backend: Backend) -> None:
        tasks = [make_task(data=i) for i in range(500)]
        backend.put_tasks(*tasks)
        claimed: list[list[str]] = [[] for _ in range(8)]
        errors: list[BaseException] = []

        def claimer(index: int) -> None:
            try:
                while claims := backend.assign_tasks("g", f"w{index}", 1 + index % 3):
                    claimed[index] += [c.task.id for c in claims]
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=claimer, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
        every = [task_id for ids in claimed for task_id in ids]
        assert sorted(every) == sorted(t.id for t in tasks)

    # -- settling ----------------------------------------------------------------------

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

    def test_retried_task_is_queued_again_later(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        before = time.time()
        assert backend.settle(Outcome.retried(claim_one(backend), 3600)) == [True]
        (queued,) = backend.get_queued_tasks("g", 10)
        assert queued.retry_count == 1
        assert queued.due >= before + 3600 - 5
        assert backend.assign_tasks("g", "w1") == []

    def test_retried_task_with_no_delay_is_claimable_again(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        backend.settle(Outcome.retried(claim_one(backend), 0))
        claim = wait_until(lambda: backend.assign_tasks("g", "w2"), timeout=5)[0]
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
        claims = {c.task.id: c for c in backend.assign_tasks("g", "w1", 3)}
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

    # -- fencing -------------------------------------------------------------------------

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

    # -- restoring -------------------------------------------------------------------------

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

    def test_tasks_of_expired_workers_are_restored(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        alive(backend, "short", ttl=0.5)
        claim_one(backend, worker="short")
        assert backend.restore_abandoned(10) == []
        restored = wait_until(lambda: backend.restore_abandoned(10), timeout=10)
        assert [i.task_id for i in restored] == [task.id]

    def test_restore_respects_its_limit(self, backend: Backend) -> None:
        backend.put_tasks(*(make_task(data=i) for i in range(5)))
        backend.assign_tasks("g", "gone", 5)
        assert len(backend.restore_abandoned(2)) == 2
        assert len(backend.restore_abandoned(10)) == 3

    # -- workers ---------------------------------------------------------------------------

    def test_workers_are_listed_with_their_expiry(self, backend: Backend) -> None:
        now = time.time()
        backend.set_worker_ttl({"a"}, 100)
        backend.set_worker_ttl({"b", "c"}, 50)
        workers = dict(backend.get_workers())
        assert set(workers) == {"a", "b", "c"}
        assert workers["a"] == pytest.approx(now + 100, abs=5)
        assert [w for w, _ in backend.get_workers()][-1] == "a"
        backend.purge_workers({"b"})
        assert {w for w, _ in backend.get_workers()} == {"a", "c"}

    def test_dead_workers_are_purged(self, backend: Backend) -> None:
        backend.set_worker_ttl({"live"}, 60)
        backend.set_worker_ttl({"dead"}, 0.3)
        assert wait_until(backend.purge_dead_workers, timeout=10) == ["dead"]
        assert [w for w, _ in backend.get_workers()] == ["live"]

    def test_concurrent_purges_forget_every_dead_worker_and_keep_the_live(
        self, backend: Backend
    ) -> None:
        backend.set_worker_ttl({"live"}, 60)
        dead = {f"dead-{i}" for i in range(20)}
        backend.set_worker_ttl(dead, 0.3)
        time.sleep(0.6)
        purged: list[str] = []
        errors: list[BaseException] = []

        def purge() -> None:
            try:
                purged.extend(backend.purge_dead_workers())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=purge) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert set(purged) == dead
        assert [w for w, _ in backend.get_workers()] == ["live"]

    # -- done and disposable ---------------------------------------------------------------

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
        for claim in backend.assign_tasks("g", "w1", 2):
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
        assert backend.assign_tasks("g", "w1", 10) == []

    # -- status ------------------------------------------------------------------------------

    def test_group_stats_count_each_state(self, backend: Backend) -> None:
        since = time.time() - 60
        backend.put_tasks(*(make_task(group="a", data=i) for i in range(5)))
        backend.put_tasks(make_task(group="a", due=time.time() + 3600))
        backend.put_tasks(make_task(group="b"))
        claims = backend.assign_tasks("a", "w1", 4)
        backend.settle(Outcome.succeeded(claims[0], b""), Outcome.failed(claims[1], "x"))
        stats = {s.group: s for s in backend.group_stats(since)}
        a = stats["a"]
        assert (a.queued, a.due, a.in_flight, a.done, a.failed) == (2, 1, 2, 1, 1)
        assert a.oldest_due is not None and a.oldest_due <= time.time()
        assert (stats["b"].queued, stats["b"].due) == (1, 1)

    # -- scheduler state ---------------------------------------------------------------------

    def test_scheduler_state_is_stored_with_its_tasks(self, backend: Backend) -> None:
        assert backend.get_scheduler_state("s") is None
        task = make_task()
        assert backend.persist_scheduler_state_and_put_tasks("s", b"v1", task, expected=None)
        assert backend.get_scheduler_state("s") == b"v1"
        assert backend.lookup_tasks(task.id)[task.id] == task

    def test_scheduler_state_is_compare_and_set(self, backend: Backend) -> None:
        backend.persist_scheduler_state_and_put_tasks("s", b"v1", expected=None)
        loser = make_task()
        assert not backend.persist_scheduler_state_and_put_tasks("s", b"v2", loser, expected=None)
        assert not backend.persist_scheduler_state_and_put_tasks("s", b"v2", loser, expected=b"x")
        assert backend.lookup_tasks(loser.id)[loser.id] is None
        assert backend.persist_scheduler_state_and_put_tasks("s", b"v2", expected=b"v1")
        assert backend.get_scheduler_state("s") == b"v2"
        assert backend.get_scheduler_state("other") is None

    # -- locks --------------------------------------------------------------------------------

    def test_a_lock_is_held_by_one_object_at_a_time(self, backend: Backend) -> None:
        first, second = backend.get_lock("job"), backend.get_lock("job")
        assert first.acquire()
        assert not second.acquire()
        assert backend.get_lock("other job").acquire()
        first.release()
        assert second.acquire()
        second.release()

    def test_a_lock_excludes_other_threads(self, backend: Backend) -> None:
        results: list[bool] = []
        holder = backend.get_lock("job")
        assert holder.acquire()

        def try_lock() -> None:
            lock = backend.get_lock("job")
            results.append(lock.acquire())

        threads = [threading.Thread(target=try_lock) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        holder.release()
        assert results == [False] * 4

    def test_a_lock_excludes_another_connection(self, backend: Backend, taskkit_open: Any) -> None:
        other = taskkit_open().backend
        lock = backend.get_lock("job")
        assert lock.acquire()
        assert not other.get_lock("job").acquire()
        lock.release()
        theirs = other.get_lock("job")
        assert theirs.acquire()
        theirs.release()

    # -- wake-ups -------------------------------------------------------------------------------

    def test_watchers_hear_of_put_tasks(self, backend: Backend, capabilities: Any) -> None:
        from . import require

        require(capabilities, "push_wakeups")
        heard: list[str] = []
        subscription = backend.watch_tasks(heard.append)
        try:
            time.sleep(0.2)  # let a listener connection settle
            backend.put_tasks(make_task(group="wake me"))
            wait_until(lambda: "wake me" in heard, timeout=5)
        finally:
            subscription.close()

    # -- names and namespaces -------------------------------------------------------------------

    def test_odd_group_names_stay_distinct(self, backend: Backend) -> None:
        tasks = {group: make_task(group=group, data=group) for group in ODD_GROUPS}
        backend.put_tasks(*tasks.values())
        for group, task in tasks.items():
            claims = backend.assign_tasks(group, "w1", 10)
            assert [c.task.id for c in claims] == [task.id], group
            assert claims[0].task.group == group
        stats = backend.group_stats(0)
        assert sorted(s.group for s in stats) == sorted(ODD_GROUPS)

    def test_odd_task_names_round_trip(self, backend: Backend) -> None:
        names = ["n\u00e9e", "a:b{c}", "x" * 400, "'; DROP TABLE tasks;--", "tab\tname"]
        tasks = [make_task(name=name) for name in names]
        backend.put_tasks(*tasks)
        found = backend.lookup_tasks(*(t.id for t in tasks))
        assert [found[t.id].name for t in tasks] == names  # type: ignore[union-attr]

    def test_namespaces_do_not_see_each_other(self, backend: Backend, taskkit_open: Any) -> None:
        other = taskkit_open(namespace=f"{backend.namespace}_b").backend
        task = make_task()
        backend.put_tasks(task)
        backend.set_worker_ttl({"w"}, 60)
        backend.persist_scheduler_state_and_put_tasks("s", b"mine", expected=None)
        assert other.assign_tasks("g", "w2", 10) == []
        assert other.lookup_tasks(task.id) == {task.id: None}
        assert other.get_workers() == []
        assert other.get_scheduler_state("s") is None
        assert other.get_lock("job").acquire()
        assert backend.get_lock("job").acquire()
        with pytest.raises(NotFound):
            other.get_result(task.id)
        other.destroy_all()
        assert backend.lookup_tasks(task.id)[task.id] == task

    def test_destroy_all_empties_the_namespace(self, backend: Backend) -> None:
        backend.put_tasks(make_task(), make_task(group="h"))
        backend.set_worker_ttl({"w"}, 60)
        backend.persist_scheduler_state_and_put_tasks("s", b"x", expected=None)
        backend.destroy_all()
        assert backend.assign_tasks("g", "w", 10) == []
        assert backend.get_workers() == []
        assert backend.get_scheduler_state("s") is None
        assert backend.group_stats(0) == []
