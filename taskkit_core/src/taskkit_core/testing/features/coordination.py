"""Coordination between workers: named locks, wake-ups when a task is put, nothing left open.

A lock of a process that died comes free (at once, or within
LOCK_FREED_WITHIN seconds when it is a lease); after any call returns,
another connection's work never waits on what the call left behind (an
open transaction, a held store lock).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

import pytest

from ...backend import Backend, Claim, Lock, Outcome
from ...clock import reset_cur_ts_impl, set_cur_ts_impl
from ...opening import connect
from ..requirements import requires
from ..support import make_task, wait_until

LOCK_FREED_WITHIN = 60.0
"""Seconds (on the backend's clock) after which a lock whose holder died must be free."""

PROBE_TIMEOUT = 10.0
"""Seconds another connection's put, claim and settle may take after a call returned."""


class CoordinationContract:
    """get_lock across objects, threads and connections; watch_tasks."""

    # -- locks -----------------------------------------------------------------

    def test_a_lock_is_held_by_one_object_at_a_time(self, backend: Backend) -> None:
        first, second = backend.get_lock("job"), backend.get_lock("job")
        assert first.acquire()
        assert not second.acquire()
        assert backend.get_lock("other job").acquire()
        first.release()
        assert second.acquire()
        second.release()

    def test_the_holder_taking_its_lock_again_keeps_it(self, backend: Backend) -> None:
        # The elected queue-depth sampler (Prometheus metrics) keeps its lock so:
        # acquire() by the holder answers True and renews a lease-based lock.
        holder, other = backend.get_lock("job"), backend.get_lock("job")
        assert holder.acquire()
        assert holder.acquire()
        assert not other.acquire()
        holder.release()
        assert other.acquire()
        other.release()

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

    @requires("multi_process")
    @pytest.mark.taskkit_slow
    def test_a_lock_held_by_a_killed_process_comes_free(
        self,
        backend: Backend,
        taskkit_url: str,
        taskkit_namespace: str,
        taskkit_options: dict[str, Any],
    ) -> None:
        options = {**taskkit_options, "namespace": taskkit_namespace}
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        holder = context.Process(target=_hold_lock, args=(taskkit_url, options, theirs))
        holder.start()
        try:
            assert ours.poll(60) and ours.recv(), "a worker process could not take the lock"
            lock = backend.get_lock("job")
            assert not lock.acquire(), "the lock of a live process was taken from it"
        finally:
            holder.kill()  # SIGKILL: no release, no clean-up of any kind
            holder.join(30)
        assert _comes_free(backend, lock), (
            f"a lock whose holder was killed is still taken {LOCK_FREED_WITHIN:.0f} s later "
            "(on the backend's clock): a lock must end with its holder's session or lease"
        )
        lock.release()

    def test_no_call_leaves_a_transaction_open(self, backend: Backend, taskkit_open: Any) -> None:
        other = taskkit_open().backend
        task = make_task()
        written: dict[str, Callable[[], object]] = {
            "put_tasks": lambda: other.lookup_tasks(task.id)[task.id] == task,
            "settle": lambda: other.get_result(task.id)[1] == b"1",
            "discard_tasks": lambda: other.lookup_tasks(task.id) == {task.id: None},
        }
        for name, call in _every_call(backend, task):
            call()
            _probe(other, name, written.get(name, lambda: True))

    # -- wake-ups --------------------------------------------------------------

    @requires("push_wakeups")
    def test_watchers_hear_of_put_tasks(self, backend: Backend) -> None:
        heard: list[str] = []
        subscription = backend.watch_tasks(heard.append)
        try:
            time.sleep(0.2)  # let a listener connection settle
            backend.put_tasks(make_task(group="wake me"))
            wait_until(lambda: "wake me" in heard, timeout=5)
        finally:
            subscription.close()


def _hold_lock(url: str, options: dict[str, Any], report: Pipe) -> None:
    """In a worker process: take the lock "job", say so, and wait to be killed."""
    connection = connect(url, **options)
    report.send(connection.backend.get_lock("job").acquire())
    time.sleep(600)


def _comes_free(backend: Backend, lock: Lock) -> bool:
    """Whether ``lock`` can be taken within LOCK_FREED_WITHIN s on the backend's clock.

    Without a server clock the backend times leases with the core's clock,
    which is moved forward instead of waiting a minute.
    """
    if not backend.capabilities.server_clock:
        set_cur_ts_impl(lambda: time.time() + LOCK_FREED_WITHIN + 1)
        try:
            return lock.acquire()
        finally:
            reset_cur_ts_impl()
    deadline = time.monotonic() + LOCK_FREED_WITHIN + 5
    while not lock.acquire():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _every_call(backend: Backend, task: Any) -> list[tuple[str, Callable[[], object]]]:
    """Each method of the protocol once, in an order in which each has work to do."""
    claims: list[Claim] = []
    lock = backend.get_lock("probe lock")
    done = make_task(name="done")
    return [
        ("put_tasks", lambda: backend.put_tasks(task)),
        ("lookup_tasks", lambda: backend.lookup_tasks(task.id)),
        ("get_queued_tasks", lambda: backend.get_queued_tasks("g", 10)),
        ("refresh_leases", lambda: backend.refresh_leases({"w1"}, 60)),
        ("get_leases", backend.get_leases),
        ("claim_tasks", lambda: claims.extend(backend.claim_tasks("g", "w1", 1))),
        ("get_stage_info", lambda: backend.get_stage_info(10)),
        ("restore_abandoned", lambda: backend.restore_abandoned(10)),
        ("settle", lambda: backend.settle(Outcome.succeeded(claims[0], b"1"))),
        ("get_result", lambda: backend.get_result(task.id)),
        ("get_done_task_ids", lambda: backend.get_done_task_ids(None, None, 10)),
        ("get_disposable_task_ids", lambda: backend.get_disposable_task_ids(10)),
        ("group_stats", lambda: backend.group_stats(0)),
        ("put_done_task", lambda: backend.put_done_task(done, result=b"2")),
        ("persist_scheduler_state_and_put_tasks", lambda: _persist(backend)),
        ("get_scheduler_state", lambda: backend.get_scheduler_state("probe")),
        ("Lock.acquire", lock.acquire),
        ("Lock.release", lock.release),
        ("drop_leases", lambda: backend.drop_leases({"w1"})),
        ("purge_expired_leases", backend.purge_expired_leases),
        ("discard_tasks", lambda: backend.discard_tasks(task.id, done.id)),
    ]


def _persist(backend: Backend) -> None:
    backend.persist_scheduler_state_and_put_tasks("probe", b"s", make_task(group="s"))


def _probe(other: Backend, after: str, sees_it: Callable[[], object]) -> None:
    """On another connection and thread, given PROBE_TIMEOUT s: what ``after`` wrote is seen,
    and a task is put, claimed and settled."""
    errors: list[BaseException] = []
    step = ["its read"]

    def work() -> None:
        try:
            assert sees_it(), f"another connection does not see what {after} wrote (committed?)"
            probe = make_task(group="probe")
            step[0] = "put_tasks"
            other.put_tasks(probe)
            step[0] = "claim_tasks"
            (claim,) = other.claim_tasks("probe", "w-probe", 1)
            step[0] = "settle"
            assert other.settle(Outcome.discarded(claim)) == [True]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT)
    assert not thread.is_alive(), (
        f"after {after} returned, another connection's {step[0]} waited more than "
        f"{PROBE_TIMEOUT:.0f} s: a call left a transaction (or a lock of the store) open"
    )
    if errors:
        raise errors[0]
