"""The Prometheus observer's per-thread tallies add up to what ran, bucket by bucket.

Eight threads count runs at once, as a worker's threads do; after a flush
the default registry (what ``taskkit worker --processes 0`` serves) shows
every run once, in the right histogram bucket, with the right sums. The
multi-process scrape is tests/cli/test_metrics.py.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from prometheus_client import REGISTRY
from taskkit_core.observers.prometheus.tally import Tallies

THREADS, RUNS = 8, 500


def sample(name: str, **labels: str) -> float:
    found = REGISTRY.get_sample_value(name, labels)
    assert found is not None, f"no sample {name} {labels}"
    return found


def count_in_threads(tallies: Tallies, group: str) -> None:
    def work() -> None:
        for _ in range(RUNS):
            tally = tallies.of(group, "job")
            tally.started(0.007)  # le 0.01
            tally.ended("succeeded", 0.2)  # le 0.25
        tallies.of(group, "job").ended("released", None)  # did not run

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_counts_of_eight_threads_reach_the_metrics_once_flushed() -> None:
    tallies, group = Tallies(), f"tally-{uuid.uuid4().hex[:8]}"
    count_in_threads(tallies, group)
    assert REGISTRY.get_sample_value(
        "taskkit_task_outcomes_total", {"group": group, "task": "job", "outcome": "succeeded"}
    ) in (None, 0.0), "nothing reaches the metrics before a flush"
    tallies.flush()
    task = {"group": group, "task": "job"}
    total = THREADS * RUNS
    assert sample("taskkit_task_outcomes_total", **task, outcome="succeeded") == total
    assert sample("taskkit_task_outcomes_total", **task, outcome="released") == THREADS
    assert sample("taskkit_task_queue_wait_seconds_bucket", **task, le="0.005") == 0
    assert sample("taskkit_task_queue_wait_seconds_bucket", **task, le="0.01") == total
    assert sample("taskkit_task_run_seconds_bucket", **task, le="0.1") == 0
    assert sample("taskkit_task_run_seconds_bucket", **task, le="0.25") == total
    assert sample("taskkit_task_run_seconds_count", **task) == total
    assert sample("taskkit_task_run_seconds_sum", **task) == pytest.approx(total * 0.2)
    assert sample("taskkit_task_queue_wait_seconds_sum", **task) == pytest.approx(total * 0.007)
    assert sample("taskkit_tasks_running", **task) == 0
    assert sample("taskkit_tasks_enqueued_total", **task) == 0, "its series shows at 0"


def test_a_second_flush_adds_only_what_is_new_and_forgets_ended_threads() -> None:
    tallies, group = Tallies(), f"tally-{uuid.uuid4().hex[:8]}"
    count_in_threads(tallies, group)
    tallies.flush()
    tallies.flush()  # nothing new: nothing added twice
    mine = tallies.of(group, "job")
    mine.started(0.5)  # this thread's run, still going
    tallies.flush()
    task = {"group": group, "task": "job"}
    assert sample("taskkit_task_outcomes_total", **task, outcome="succeeded") == THREADS * RUNS
    assert sample("taskkit_tasks_running", **task) == 1
    assert sample("taskkit_task_queue_wait_seconds_count", **task) == THREADS * RUNS + 1
    assert len(tallies._threads) == 1, "the eight ended threads are dropped, this one stays"
    mine.ended("succeeded", 0.01)
    tallies.flush()
    assert sample("taskkit_tasks_running", **task) == 0
