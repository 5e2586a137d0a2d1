"""The metrics, their names and labels: what the Grafana board (examples/grafana) reads.

Labels: ``group`` and ``task`` (the task's name), ``outcome`` (an
``OutcomeKind`` value), ``state`` (of queue depths: ``queued``, ``due``,
``staged``). Tasks in flight are the running ones (a gauge each worker
keeps) and the staged ones (sampled with the queue depths, for the whole
namespace). Gauges say how worker processes of one supervisor combine
(prometheus_client's multiprocess modes): running tasks add up over live
processes; queue depths come from the one process that samples them, the
most recent value winning.

A task adds to the outcome counter, the running gauge (up, then down) and
the two histograms, through its thread's tally (:mod:`.tally`); nothing is
recorded when a task is claimed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
"""Queue waits range from milliseconds (an idle worker) to an hour (a backlog)."""
RUN_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
TASK = ("group", "task")


@dataclass(frozen=True)
class Metrics:
    """Every metric taskkit workers record (one set per process)."""

    enqueued: Counter
    outcomes: Counter
    timeouts: Counter
    leases_lost: Counter
    queue_wait: Histogram
    run_time: Histogram
    running: Gauge
    lease_lag: Histogram
    leases_late: Counter
    restored: Counter
    workers: Gauge
    queue_depth: Gauge
    oldest_due_age: Gauge


@functools.cache
def metrics() -> Metrics:
    """The metrics of this process, made (and registered) on first use."""
    return Metrics(
        enqueued=Counter("taskkit_tasks_enqueued", "Tasks put into the queue.", TASK),
        outcomes=Counter(
            "taskkit_task_outcomes", "Attempts ended, by outcome.", (*TASK, "outcome")
        ),
        timeouts=Counter("taskkit_task_timeouts", "Attempts that ran past their timeout.", TASK),
        leases_lost=Counter(
            "taskkit_leases_lost", "Outcomes refused: another worker took the task over."
        ),
        queue_wait=Histogram(
            "taskkit_task_queue_wait_seconds",
            "From due (or created) to the start of the run.",
            TASK,
            buckets=WAIT_BUCKETS,
        ),
        run_time=Histogram(
            "taskkit_task_run_seconds", "Time in the handler.", TASK, buckets=RUN_BUCKETS
        ),
        running=Gauge(
            "taskkit_tasks_running",
            "Tasks in the handler now (staged ones: taskkit_queue_tasks).",
            TASK,
            multiprocess_mode="livesum",
        ),
        lease_lag=Histogram(
            "taskkit_lease_refresh_lag_seconds",
            "How much later than planned each lease refresh came.",
            buckets=LAG_BUCKETS,
        ),
        leases_late=Counter(
            "taskkit_lease_late", "Lease refreshes more than half a worker_ttl apart."
        ),
        restored=Counter("taskkit_tasks_restored", "Tasks of dead workers put back in the queue."),
        workers=Gauge(
            "taskkit_worker_runtimes", "Worker runtimes running.", multiprocess_mode="livesum"
        ),
        queue_depth=Gauge(
            "taskkit_queue_tasks",
            "Tasks per group and state, sampled by one process per namespace.",
            ("group", "state"),
            multiprocess_mode="livemostrecent",
        ),
        oldest_due_age=Gauge(
            "taskkit_queue_oldest_due_age_seconds",
            "How long the oldest due task of a group has waited (sampled).",
            ("group",),
            multiprocess_mode="livemostrecent",
        ),
    )


METRIC_NAMES = (
    "taskkit_tasks_enqueued_total",
    "taskkit_task_outcomes_total",
    "taskkit_task_timeouts_total",
    "taskkit_leases_lost_total",
    "taskkit_task_queue_wait_seconds",
    "taskkit_task_run_seconds",
    "taskkit_tasks_running",
    "taskkit_lease_refresh_lag_seconds",
    "taskkit_lease_late_total",
    "taskkit_tasks_restored_total",
    "taskkit_worker_runtimes",
    "taskkit_queue_tasks",
    "taskkit_queue_oldest_due_age_seconds",
)
"""The names a scrape shows (counters with ``_total``; histograms add ``_bucket``,
``_sum`` and ``_count``)."""
