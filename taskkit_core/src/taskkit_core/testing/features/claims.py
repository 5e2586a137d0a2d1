"""Claims: claim_tasks takes due tasks of a group for a worker, atomically."""

from __future__ import annotations

import threading
import time

from ...backend import Backend
from ..support import claim_one, make_task, wait_until


class ClaimContract:
    """Oldest due first, never beyond the limit, never the same task twice."""

    def test_claim_takes_the_oldest_due_task_first(self, backend: Backend) -> None:
        now = time.time()
        late, early, middle = (make_task(due=now - d) for d in (1, 30, 10))
        backend.put_tasks(late, early, middle)
        order = [claim_one(backend).task.id for _ in range(3)]
        assert order == [early.id, middle.id, late.id]

    def test_claim_skips_tasks_not_yet_due(self, backend: Backend) -> None:
        backend.put_tasks(make_task(due=time.time() + 3600))
        assert backend.claim_tasks("g", "w1", 5) == []

    def test_a_task_becomes_claimable_when_due(self, backend: Backend) -> None:
        task = make_task(due=time.time() + 1.0)
        backend.put_tasks(task)
        assert backend.claim_tasks("g", "w1") == []
        claims = wait_until(lambda: backend.claim_tasks("g", "w1"), timeout=10)
        assert claims[0].task.id == task.id

    def test_claim_never_returns_more_than_the_limit(self, backend: Backend) -> None:
        backend.put_tasks(*(make_task(data=i) for i in range(10)))
        assert len(backend.claim_tasks("g", "w1", 3)) == 3
        assert len(backend.claim_tasks("g", "w1", 1)) == 1
        assert len(backend.claim_tasks("g", "w1", 100)) == 6
        assert backend.claim_tasks("g", "w1", 100) == []
        assert len(backend.get_stage_info(100)) == 10

    def test_claim_only_takes_its_own_group(self, backend: Backend) -> None:
        backend.put_tasks(make_task(group="a"), make_task(group="b"))
        (claim,) = backend.claim_tasks("a", "w1", 10)
        assert claim.task.group == "a"
        assert backend.claim_tasks("a", "w1", 10) == []

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
        assert backend.claim_tasks("g", "w2", 10) == []

    def test_eight_threads_claim_500_tasks_each_exactly_once(self, backend: Backend) -> None:
        tasks = [make_task(data=i) for i in range(500)]
        backend.put_tasks(*tasks)
        claimed: list[list[str]] = [[] for _ in range(8)]
        errors: list[BaseException] = []

        def claimer(index: int) -> None:
            try:
                while claims := backend.claim_tasks("g", f"w{index}", 1 + index % 3):
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
