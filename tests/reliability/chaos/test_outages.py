"""R10 backend restart mid-run, R11 backend hang (SIGSTOP) longer than the TTL."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from taskkit_core.opening import connect
from taskkit_core.testing import wait_until

from ..conftest import TTL
from .conftest import SERVER_BACKENDS, MakeChaos, leaks, reads_after_fault
from .measure import CallTimer, in_flight, resume_delays, wait_finished

pytestmark = pytest.mark.chaos

TASKS = 5000
OUTAGE = 5.0
RESUME_BOUND = 10.0
CLIENT_TIMEOUT = {"redis": 5.0, "mysql": 60.0}
"""The configured read timeout of each client (PostgreSQL's driver has none)."""


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_r10_a_backend_restart_mid_run_loses_nothing(
    chaos: MakeChaos,
    backend: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = chaos(backend)
    assert run.server is not None
    load = run.workload
    ids = [i for start in range(0, TASKS, 1000) for i in load.enqueue(1000, start, sleep=0.02)]
    processes = load.start(2, 4)
    faults: list[dict[str, Any]] = []
    baseline = -1
    for share, crash in ((0.3, False), (0.7, True)):
        wait_finished(load.history_dir, int(TASKS * share), timeout=300)
        baseline = baseline if baseline >= 0 else run.server.connections()
        held = len(run.kit.backend.get_stage_info(1000))
        down = time.time()
        accepting = run.server.restart(crash=crash, outage=OUTAGE)
        read_errors = reads_after_fault(run)
        wait_until(functools.partial(_both_resumed, load.history_dir, accepting), 30)
        faults.append(
            {"crash": crash, "down": down, "accepting": accepting, "held": held}
            | {"read_errors": read_errors}
        )
    load.drain(ids, timeout=300)
    alive = [p.is_alive() for p in processes]
    report = load.check(ids)
    after = run.server.connections()
    for fault in faults:
        fault["in_flight"] = in_flight(load.history_dir, fault["down"])
        fault["resume_s"] = max(resume_delays(load.history_dir, fault["accepting"]).values())
        fault["restart_s"] = fault["accepting"] - fault["down"]
    said = "".join(capfd.readouterr()) + caplog.text
    bound = int(sum(f["held"] for f in faults))  # running or claimed ahead
    run.record(
        report=report.summary(),
        duplicated=report.duplicated,
        duplicate_bound=bound,
        faults=faults,
        connections_before=baseline,
        connections_after=after,
        workers_alive=alive,
        password_leaks=leaks(said),
        outage_lines=said.count("backend error, backing off"),
    )
    report.assert_clean(max_duplicated=bound)
    assert not [f["read_errors"] for f in faults if f["read_errors"]], "a read failed after"
    assert all(alive), "no worker process died"
    assert all(f["resume_s"] <= RESUME_BOUND for f in faults), faults
    assert leaks(said) == [], "the password appeared in the output"
    assert after <= baseline + 2, f"connections {baseline} before, {after} after"
    assert "backend error, backing off" in said, "the outage went unnoticed"


def _both_resumed(history_dir: Path, since: float) -> bool:
    return len(resume_delays(history_dir, since)) == 2


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_r11_a_backend_hang_longer_than_the_ttl_loses_nothing(
    chaos: MakeChaos, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    run = chaos(backend)
    assert run.server is not None
    load = run.workload
    ids = load.enqueue(40, sleep=3.0)
    processes = load.start(2, 4)
    wait_until(lambda: len(run.kit.backend.get_stage_info(100)) >= 8, 30)
    probe = connect(run.url, namespace=run.namespace)
    timer = CallTimer(lambda: probe.backend.get_stage_info(10))
    timer.start()
    try:
        time.sleep(0.5)
        held = len(run.kit.backend.get_stage_info(100))
        paused = time.time()
        run.server.pause()
        time.sleep(2 * TTL)
        run.server.resume()
        resumed = time.time()
        time.sleep(2.0)
    finally:
        run.server.resume()
        timer.stop()
        probe.close()
    load.drain(ids, timeout=120)
    alive = [p.is_alive() for p in processes]
    report = load.check(ids)
    restores = [r for r in caplog.records if r.getMessage().startswith("restored task")]
    run.record(
        report=report.summary(),
        duplicated=report.duplicated,
        held_at_pause=held,
        in_flight_at_pause=in_flight(load.history_dir, paused),
        stall_s=resumed - paused,
        longest_client_call_s=round(timer.longest, 2),
        probe_errors=sorted({e.split(":")[0] for e in timer.errors}),
        restores_logged_in_test_process=len(restores),
        workers_alive=alive,
    )
    logging.getLogger(__name__).info("R11 %s", run.measured)
    report.assert_clean(max_duplicated=held)
    assert all(alive), "no worker process died"
    limit = CLIENT_TIMEOUT.get(backend)
    if limit is not None:
        assert timer.longest <= limit + 1.0, "a client call blocked past its timeout"
