"""Unique tasks: a put whose unique key is held returns the holder, atomically."""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from ...backend import Backend, Outcome, PutResult
from ...errors import CapabilityError, DuplicateTask
from ...kit import Kit
from ...opening import connect
from ...task import Task, Unique
from ..requirements import refused_without, requires
from ..support import claim_one, make_task, task_args


@refused_without("unique_tasks")
def _unique_keys_are_refused(request: pytest.FixtureRequest) -> None:
    """Without unique_tasks, a task with a unique key is refused and nothing is written."""
    kit: Kit = request.getfixturevalue("kit")
    with pytest.raises(CapabilityError, match="capability unique_tasks"):
        kit.initiate_task("g", "echo", 1, unique="k")
    assert kit.backend.group_stats(0) == []


def unique_task(key: str = "k", group: str = "g", **unique: Any) -> Task:
    return make_task(group=group, unique=Unique(key, **unique))


def queued_ids(backend: Backend, group: str = "g") -> list[str]:
    return [t.id for t in backend.get_queued_tasks(group, 100)]


class UniqueContract:
    """put_tasks honours Task.unique: the holder's states and period decide."""

    @requires("unique_tasks")
    def test_a_duplicate_returns_the_holder(self, backend: Backend) -> None:
        holder, duplicate = unique_task(), unique_task()
        assert backend.put_tasks(holder) == [PutResult(holder.id, True)]
        assert backend.put_tasks(duplicate) == [PutResult(holder.id, False)]
        assert queued_ids(backend) == [holder.id]
        assert backend.lookup_tasks(duplicate.id) == {duplicate.id: None}

    @requires("unique_tasks")
    def test_in_one_call_the_first_task_with_a_key_wins(self, backend: Backend) -> None:
        first, second, other = unique_task(), unique_task(), make_task()
        answers = backend.put_tasks(first, second, other)
        assert answers == [
            PutResult(first.id, True),
            PutResult(first.id, False),
            PutResult(other.id, True),
        ]
        assert sorted(queued_ids(backend)) == sorted([first.id, other.id])

    @requires("unique_tasks")
    def test_keys_are_scoped_to_their_group(self, backend: Backend) -> None:
        a, b = unique_task(group="a"), unique_task(group="b")
        assert [r.created for r in backend.put_tasks(a, b)] == [True, True]

    @requires("unique_tasks")
    def test_repeating_a_put_is_not_a_duplicate(self, backend: Backend) -> None:
        task = unique_task()
        backend.put_tasks(task)
        assert backend.put_tasks(task) == [PutResult(task.id, False)]

    @requires("unique_tasks")
    def test_a_queued_only_key_is_free_once_its_holder_is_claimed(self, backend: Backend) -> None:
        holder = unique_task(states="queued")
        backend.put_tasks(holder)
        claim_one(backend)
        successor = unique_task()
        assert backend.put_tasks(successor) == [PutResult(successor.id, True)]
        assert backend.put_tasks(unique_task()) == [PutResult(successor.id, False)]

    @requires("unique_tasks")
    def test_an_active_key_is_held_while_staged(self, backend: Backend) -> None:
        holder = unique_task(states="active")
        backend.put_tasks(holder)
        claim = claim_one(backend)
        assert backend.put_tasks(unique_task()) == [PutResult(holder.id, False)]
        backend.settle(Outcome.succeeded(claim, b"1"))
        successor = unique_task()
        assert backend.put_tasks(successor) == [PutResult(successor.id, True)]

    @requires("unique_tasks")
    def test_a_retried_holder_holds_its_key_again(self, backend: Backend) -> None:
        holder = unique_task(states="active")
        backend.put_tasks(holder)
        backend.settle(Outcome.retried(claim_one(backend), 30))
        assert backend.put_tasks(unique_task()) == [PutResult(holder.id, False)]

    @requires("unique_tasks")
    def test_a_holder_past_its_period_no_longer_blocks(self, backend: Backend) -> None:
        old = replace(unique_task(period=5), created=time.time() - 10)
        backend.put_tasks(old)
        fresh = unique_task(period=5)
        assert backend.put_tasks(fresh) == [PutResult(fresh.id, True)]
        assert backend.put_tasks(unique_task(period=5)) == [PutResult(fresh.id, False)]

    @requires("unique_tasks")
    def test_a_discarded_holder_frees_its_key(self, backend: Backend) -> None:
        holder = unique_task()
        backend.put_tasks(holder)
        backend.discard_tasks(holder.id)
        successor = unique_task()
        assert backend.put_tasks(successor) == [PutResult(successor.id, True)]

    @requires("unique_tasks")
    def test_the_scheduler_skips_a_duplicate(self, backend: Backend) -> None:
        holder = unique_task()
        backend.put_tasks(holder)
        assert backend.persist_scheduler_state_and_put_tasks("s", b"1", unique_task())
        assert backend.get_scheduler_state("s") == b"1"
        assert queued_ids(backend) == [holder.id]

    @requires("unique_tasks")
    def test_sixteen_threads_putting_one_key_leave_one_task(self, backend: Backend) -> None:
        barrier = threading.Barrier(16)
        answers: list[PutResult] = []

        def put() -> None:
            task = unique_task()
            barrier.wait(30)
            answers.extend(backend.put_tasks(task))

        threads = [threading.Thread(target=put) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        (holder,) = queued_ids(backend)
        assert [a.task_id for a in answers] == [holder] * 16
        assert sum(a.created for a in answers) == 1

    @requires("unique_tasks", "multi_process")
    def test_four_processes_putting_one_key_leave_one_task(
        self,
        backend: Backend,
        taskkit_url: str,
        taskkit_options: dict[str, Any],
        taskkit_namespace: str,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(4)
        answers = context.Queue()
        options = {**taskkit_options, "namespace": taskkit_namespace}
        processes = [
            context.Process(target=put_from_process, args=(taskkit_url, options, barrier, answers))
            for _ in range(4)
        ]
        for process in processes:
            process.start()
        got = [answers.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(30)
        (holder,) = queued_ids(backend)
        assert [task_id for task_id, _ in got] == [holder] * 4
        assert sum(created for _, created in got) == 1


def put_from_process(
    url: str, options: dict[str, Any], barrier: Any, answers: Any
) -> None:  # pragma: no cover - runs in a spawned process
    """Open the backend, wait for the others, put one task with key "k"; report the answer."""
    connection = connect(url, **options)
    try:
        task = unique_task()
        barrier.wait(60)
        (answer,) = connection.backend.put_tasks(task)
        answers.put((answer.task_id, answer.created))
    finally:
        connection.close()


class UniqueKitContract:
    """What an application sees: the holder's Result, or DuplicateTask when asked."""

    @requires("unique_tasks")
    def test_a_duplicate_gives_the_holders_result(self, kit: Kit) -> None:
        first = kit.initiate_task("g", "echo", 1, unique="report")
        again = kit.initiate_task("g", "echo", 2, unique=Unique("report"))
        assert (first.duplicate, again.duplicate) == (False, True)
        assert again.task_id == first.task_id

    @requires("unique_tasks")
    def test_raise_on_duplicate_names_the_holder(self, kit: Kit) -> None:
        first = kit.initiate_task("g", "echo", 1, unique="report")
        with pytest.raises(DuplicateTask) as info:
            kit.initiate_task("g", "echo", 2, unique="report", raise_on_duplicate=True)
        assert info.value.task_id == first.task_id
        assert "report" in str(info.value)

    @requires("unique_tasks")
    def test_bulk_initiate_reports_each_duplicate(self, kit: Kit) -> None:
        items = task_args("echo", range(3))
        items[0]["unique"] = items[2]["unique"] = "same"
        results = kit.initiate_tasks(*items)
        assert [r.duplicate for r in results] == [False, False, True]
        assert results[2].task_id == results[0].task_id
