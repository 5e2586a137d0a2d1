"""R5 crash points around claim and settle, R17 poison tasks."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from harness.history import read_history

from taskkit_core import Failed

from .conftest import SLACK, P, Workload, need_processes


@pytest.mark.parametrize(
    ("point", "extra_runs"),
    [("after_claim", 0), ("before_settle", 1), ("heartbeat", 0)],
)
def test_r5_a_crash_at_any_point_loses_nothing(
    workload: Workload, point: str, extra_runs: int
) -> None:
    need_processes(workload)
    ids = workload.enqueue(20, sleep=0.01)
    (victim,) = workload.start(1, 2, env={"TASKKIT_CRASHPOINT": point})
    victim.join(30)
    assert victim.exitcode == 137, "the victim crashed at the crash point"
    workload.start(1, 2)  # the standby
    workload.drain(ids, timeout=60)
    report = workload.check(ids)
    report.assert_clean(max_duplicated=2 * extra_runs)
    if extra_runs == 0:
        assert report.executions_per_task == {1: 20}, "a handler that never started is not rerun"
    for task_id in ids:  # the stored result is the one of the last attempt
        _, encoded = workload.kit.backend.get_result(task_id)
        runs = [
            r
            for r in read_history(workload.history_dir, "exec")
            if r["task_id"] == task_id and r["event"] == "end"
        ]
        assert f'"attempt": {max(r["attempt"] for r in runs)}' in encoded.decode()


def test_r17_poison_tasks_fail_after_max_attempts(workload: Workload) -> None:
    """A task that raises, one that exits its process and one that segfaults it.

    One thread per process and no claiming ahead: a crash then takes no
    other task with it but, at most, one whose outcome was still on its way
    to the backend. (Every task a crashing process holds loses an attempt;
    README.md says so.)
    """
    need_processes(workload)
    workload.kit.settings = replace(workload.kit.settings, max_attempts=3, prefetch=0)
    normal = workload.enqueue(60, sleep=0.01)
    poison = [
        task_id
        for index, mode in enumerate(("fail", "exit", "segfault"))
        for task_id in workload.enqueue(1, start=1000 + index, mode=mode, retry=0)
    ]
    deaths = workload.keep_running(3, 1, [*normal, *poison], timeout=120)
    report = workload.check([*normal, *poison])
    # Besides the three poison tasks, a dying process may take along one finished
    # task whose outcome its settler had not yet written (README, promise 6).
    report.assert_clean(max_duplicated=3 + deaths, expect_failed=3)
    assert report.done == 60
    for task_id in poison:
        runs = [
            r
            for r in read_history(workload.history_dir, "exec")
            if r["task_id"] == task_id and r["event"] == "start"
        ]
        assert len(runs) == 3, f"poison task {task_id} ran {len(runs)} times"
        with pytest.raises(Failed, match="gave up after 3 attempts"):
            workload.kit.backend.get_result(task_id)
    assert deaths == 6, "two crashing kinds, three attempts each, then no crash loop"


def test_r18_retries_wait_their_delay_and_stop_at_max_attempts(workload: Workload) -> None:
    delay = 0.5
    workload.kit.settings = replace(workload.kit.settings, max_attempts=4)
    tasks = {
        failures: workload.enqueue(1, start=failures, mode="flaky", failures=failures, retry=delay)[
            0
        ]
        for failures in (0, 1, 3, 5)
    }
    workload.start(1, 4)
    workload.drain(list(tasks.values()), timeout=30)
    for failures, task_id in tasks.items():
        starts = sorted(
            r["at"]
            for r in read_history(workload.history_dir, "exec")
            if r["task_id"] == task_id and r["event"] == "start"
        )
        assert len(starts) == min(failures + 1, 4), failures
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(delay <= gap <= delay + P + SLACK for gap in gaps), (failures, gaps)
    report = workload.check(list(tasks.values()))
    report.assert_clean(max_duplicated=3, expect_failed=1)  # the retried ones; k=5 fails
