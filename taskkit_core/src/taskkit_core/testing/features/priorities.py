"""Priorities: a claim takes the highest priority first, then the earliest due, then the oldest."""

from __future__ import annotations

import time

import pytest

from ...backend import Backend, Outcome
from ...errors import CapabilityError
from ...kit import Kit
from ..requirements import refused_without, requires
from ..support import RecordingHandler, Start, claim_one, make_task


@refused_without("priorities")
def _priorities_are_refused(request: pytest.FixtureRequest) -> None:
    """Without priorities, a task with a priority is refused and nothing is written."""
    kit: Kit = request.getfixturevalue("kit")
    with pytest.raises(CapabilityError, match="capability priorities"):
        kit.initiate_task("g", "echo", 1, priority=5)
    assert kit.backend.group_stats(0) == []


class PriorityContract:
    """claim_tasks orders by priority DESC, due ASC, id ASC; strictly, without aging."""

    @requires("priorities")
    def test_the_highest_priority_is_claimed_first(self, backend: Backend) -> None:
        now = time.time()
        low = make_task(due=now - 60, priority=-5)
        normal = make_task(due=now - 30)
        high = make_task(due=now - 1, priority=50)
        backend.put_tasks(low, normal, high)
        order = [claim_one(backend).task.id for _ in range(3)]
        assert order == [high.id, normal.id, low.id]

    @requires("priorities")
    def test_equal_priorities_go_by_due_then_id(self, backend: Backend) -> None:
        now = time.time()
        later = make_task(due=now - 1, priority=3)
        first, second = sorted(
            (make_task(due=now - 9, priority=3, data=i) for i in range(2)), key=lambda t: t.id
        )
        backend.put_tasks(later, second, first)
        claimed = [c.task.id for c in backend.claim_tasks("g", "w1", 3)]
        assert claimed == [first.id, second.id, later.id]

    @requires("priorities")
    def test_a_high_priority_task_not_yet_due_lets_lower_ones_run(self, backend: Backend) -> None:
        future = make_task(due=time.time() + 3600, priority=100)
        due = make_task(priority=-100)
        backend.put_tasks(future, due)
        assert [c.task.id for c in backend.claim_tasks("g", "w1", 5)] == [due.id]

    @requires("priorities")
    def test_the_extreme_priorities_round_trip(self, backend: Backend) -> None:
        tasks = [make_task(priority=p) for p in (-100, 0, 100)]
        backend.put_tasks(*tasks)
        found = backend.lookup_tasks(*(t.id for t in tasks))
        assert [found[t.id] for t in tasks] == tasks
        assert [t.priority for t in backend.get_queued_tasks("g", 10)] == [100, 0, -100]

    @requires("priorities")
    def test_a_retried_task_keeps_its_priority(self, backend: Backend) -> None:
        urgent = make_task(priority=9)
        backend.put_tasks(urgent)
        backend.settle(Outcome.retried(claim_one(backend), 0))
        backend.put_tasks(make_task(priority=1))
        assert claim_one(backend).task.id == urgent.id


class PriorityRunContract:
    """Worker threads run the most urgent due task first."""

    @requires("priorities")
    def test_workers_start_the_urgent_task_first(
        self, kit: Kit, handler: RecordingHandler, start_threads: Start
    ) -> None:
        results = [kit.initiate_task("g", "echo", p, priority=p) for p in (-10, 0, 10)]
        start_threads({"g": 1}, polling_interval=0.1)
        assert [r.get(timeout=10) for r in results] == [-10, 0, 10]
        ran = [e.task_id for e in handler.executions]
        assert ran == [r.task_id for r in reversed(results)]
