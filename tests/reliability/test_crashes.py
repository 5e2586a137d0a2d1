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


@pytest.mark.parametrize("mode", ["fail", "exit", "segfault"])
def test_r17_a_poison_task_fails_after_max_attempts(workload: Workload, mode: str) -> None:
    """One thread per process: a task that kills its process takes no neighbour with it.

    (With more threads, every task running beside it when it crashes also
    loses an attempt; README.md says so.)
    """
    if mode != "fail":
        need_processes(workload)
    workload.kit.settings = replace(workload.kit.settings, max_attempts=3)
    normal = workload.enqueue(60, sleep=0.01)
    (poison,) = workload.enqueue(1, start=1000, mode=mode, retry=0)
    deaths = workload.keep_running(3, 1, [*normal, poison], timeout=90)
    report = workload.check([*normal, poison])
    report.assert_clean(max_duplicated=1, expect_failed=1)
    assert report.done == 60
    runs = [
        r
        for r in read_history(workload.history_dir, "exec")
        if r["task_id"] == poison and r["event"] == "start"
    ]
    assert len(runs) == 3, f"the poison task ran {len(runs)} times"
    assert deaths == (3 if mode != "fail" else 0), "no crash loop after the last attempt"
    with pytest.raises(Failed, match="gave up after 3 attempts"):
        workload.kit.backend.get_result(poison)


@pytest.mark.parametrize("failures", [0, 1, 3, 5])
def test_r18_retries_wait_their_delay_and_stop_at_max_attempts(
    workload: Workload, failures: int
) -> None:
    delay = 0.5
    workload.kit.settings = replace(workload.kit.settings, max_attempts=4)
    (task_id,) = workload.enqueue(1, mode="flaky", failures=failures, retry=delay)
    workload.start(1, 1)
    workload.drain([task_id], timeout=30)
    starts = sorted(
        r["at"]
        for r in read_history(workload.history_dir, "exec")
        if r["task_id"] == task_id and r["event"] == "start"
    )
    assert len(starts) == min(failures + 1, 4)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(delay <= gap <= delay + P + SLACK for gap in gaps), gaps
    report = workload.check([task_id])
    report.assert_clean(max_duplicated=1, expect_failed=1 if failures >= 4 else 0)  # retries
