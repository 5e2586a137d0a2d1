"""`taskkit worker --metrics-port`: Prometheus metrics of every worker process on one port.

The worker runs two processes (the supervisor serves their combined
metrics); the test puts tasks in from another process, scrapes the port
as Prometheus would, and reads the counts of what ran. The Grafana board
in examples/grafana names only metrics such a scrape shows.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from taskkit_core.observers.prometheus.metrics import METRIC_NAMES

from .conftest import Shared, _open_shared
from .support import APP, Markers, taskkit, wait_until, worker

BOARD = Path(__file__).resolve().parents[2] / "examples" / "grafana" / "taskkit.json"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> Samples:
    """Every sample on the metrics page, by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def enqueue(shared: Shared, name: str, count: int) -> None:
    for i in range(count):
        done = taskkit("enqueue", APP, "default", name, "--data", json.dumps(i), env=shared.env())
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samples]:
    """A scrape of a two-process worker on SQLite that ran 5 echo tasks and 2 failing ones.

    The tasks are put in before the worker starts, so the first queue depth
    sample (taken as the worker starts) already sees the group.
    """
    tmp = tmp_path_factory.mktemp("metrics")
    (tmp / "markers").mkdir()
    opened = _open_shared("sqlite", tmp, Markers(tmp / "markers"), cli_migrate=False)
    shared = next(opened)
    try:
        enqueue(shared, "echo", 5)
        enqueue(shared, "fail", 2)
        port = free_port()
        args = [APP, "--processes", "2", "--polling-interval", "0.2", "--metrics-port", str(port)]
        with worker(args, shared.env()) as running:
            running.wait_ready(processes=2)
            yield wait_until(
                lambda: finished(port), 60, f"7 outcomes in the metrics\n{running.log}"
            )
            running.send(signal.SIGTERM)
            assert running.wait(60) == 0, running.log
    finally:
        next(opened, None)  # runs the fixture's clean-up


def finished(port: int) -> Samples | None:
    """The scrape once it counts every outcome and a queue depth sample."""
    samples = scrape(port)
    outcomes = "taskkit_task_outcomes_total"
    done = value(samples, outcomes, group="default", task="echo", outcome="succeeded")
    failed = value(samples, outcomes, group="default", task="fail", outcome="failed")
    sampled = ("taskkit_queue_tasks", frozenset({("group", "default"), ("state", "due")}))
    return samples if (done, failed) == (5, 2) and sampled in samples else None


def test_the_counts_of_what_ran_in_two_processes_are_on_one_port(scraped: Samples) -> None:
    outcomes = "taskkit_task_outcomes_total"
    assert value(scraped, outcomes, group="default", task="echo", outcome="succeeded") == 5
    assert value(scraped, outcomes, group="default", task="fail", outcome="failed") == 2
    assert value(scraped, "taskkit_worker_runtimes") == 2, "both processes are counted"
    runs = value(scraped, "taskkit_task_run_seconds_count", group="default", task="echo")
    waits = value(scraped, "taskkit_task_queue_wait_seconds_count", group="default", task="fail")
    assert (runs, waits) == (5, 2)
    running = ("taskkit_tasks_running", frozenset({("group", "default"), ("task", "echo")}))
    assert scraped[running] == 0, "nothing runs once every task finished"


def test_the_elected_process_samples_queue_depths(scraped: Samples) -> None:
    depths = {dict(labels)["state"] for name, labels in scraped if name == "taskkit_queue_tasks"}
    assert depths == {"queued", "due", "staged"}


def test_the_grafana_board_names_only_metrics_a_scrape_shows(scraped: Samples) -> None:
    board = json.loads(BOARD.read_text())
    expressions = [
        target["expr"]
        for panel in board["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    assert expressions, "the board has queries"
    used = {name for expr in expressions for name in re.findall(r"\btaskkit_[a-z_]+", expr)}
    shown = {name for name, _ in scraped}
    assert used - shown == set(), f"the board names metrics no scrape shows: {used - shown}"
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    assert len(families) == len(METRIC_NAMES), f"the board shows every metric: {sorted(families)}"
