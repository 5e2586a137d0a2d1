"""Putting tasks in: put_tasks and lookup_tasks, bytes and timestamps kept exactly."""

from __future__ import annotations

import dataclasses
import time

import pytest

from ...backend import Backend, Outcome, PutResult
from ...task import MAX_PAYLOAD_BYTES, Task
from ..support import claim_one, make_task


class PutContract:
    """put_tasks: all or none, idempotent, looked up unchanged, queued in due order."""

    def test_a_put_that_fails_stores_none_of_its_tasks(self, backend: Backend) -> None:
        good = [make_task(data=i) for i in range(3)]
        # Not bytes: no backend can store it, so the put fails somewhere along the way.
        unstorable = dataclasses.replace(make_task(), data=None)  # type: ignore[arg-type]
        ids = [t.id for t in [*good, unstorable]]
        try:
            backend.put_tasks(good[0], good[1], unstorable, good[2])
        except Exception:  # refused: then nothing of it may be stored
            stored = [i for i, t in backend.lookup_tasks(*ids).items() if t is not None]
            assert stored == [], f"a put that raised stored {len(stored)} of its 4 tasks"
        else:  # a backend may accept it; then every task is stored
            missing = [i for i, t in backend.lookup_tasks(*ids).items() if t is None]
            assert missing == [], f"a put that returned did not store {len(missing)} of its tasks"

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
        assert len(backend.claim_tasks("g", "w1", 10)) == 1

    def test_a_put_answers_each_task_in_order(self, backend: Backend) -> None:
        tasks = [make_task(data=i) for i in range(1500)]  # two batches of SQLite and MySQL
        answers = backend.put_tasks(*tasks)
        assert len(answers) == len(tasks)
        assert list(answers) == [PutResult(t.id, True) for t in tasks]
        assert answers[-1] == PutResult(tasks[-1].id, True)
        again = backend.put_tasks(tasks[7], fresh := make_task(data="fresh"))
        assert list(again) == [PutResult(tasks[7].id, False), PutResult(fresh.id, True)]

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

    def test_whole_number_times_mixed_with_fractions_are_stored(self, backend: Backend) -> None:
        # A Task built by hand may hold ints where Task.init makes floats; one put
        # mixing both must store them all (a binary array of floats refuses ints).
        made = [make_task(data=i, due=1_700_000_000.5, ttl=60.5) for i in range(3)]
        whole = dataclasses.replace(made[1], due=1_700_000_000, ttl=60, scheduled=1_700_000_000)
        backend.put_tasks(made[0], whole, made[2])
        found = backend.lookup_tasks(made[0].id, whole.id)
        assert (found[whole.id].due, found[whole.id].ttl) == (1_700_000_000, 60)  # type: ignore[union-attr]
        assert found[whole.id].scheduled == 1_700_000_000  # type: ignore[union-attr]
        assert found[made[0].id].due == pytest.approx(1_700_000_000.5)  # type: ignore[union-attr]

    @pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 1024 * 1024, MAX_PAYLOAD_BYTES])
    def test_payload_and_result_sizes_round_trip(self, backend: Backend, size: int) -> None:
        data = bytes(i % 251 for i in range(size))
        task = Task.init("g", "echo", data)
        backend.put_tasks(task)
        claim = claim_one(backend)
        assert claim.task.data == data
        assert backend.settle(Outcome.succeeded(claim, data)) == [True]
        assert backend.get_result(task.id) == (claim.task, data)
