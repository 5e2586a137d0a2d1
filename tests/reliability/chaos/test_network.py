"""R12 network faults through the in-repository TCP proxy.

Every connection of the workers and of the test goes through a FaultProxy
in front of a private server. Each case measures a baseline rate, injects
one fault, and then counts the checker's invariants and how long the rate
took to come back to 80 % of the baseline.

The proxy drops bytes in ``blackhole`` and ``half_open`` modes; TCP never
does that on a live connection, so those cases end with a reset of every
proxied connection (as a firewall that lost the flows' state would),
and a connection that waited through the fault fails instead of waiting
for a reply that the proxy threw away.
"""

from __future__ import annotations

import threading
import time

import pytest
from taskkit_core.backend import Claim
from taskkit_core.opening import connect

from ..conftest import SLACK, TTL, P, R
from .conftest import SERVER_BACKENDS, MakeChaos, Proxies, reads_after_fault
from .measure import in_flight, rate, recovery_time, wait_finished

pytestmark = pytest.mark.chaos

TASKS = 2000
BASELINE = 3.0
RECOVERY_BOUND = 10.0
CASES = ["latency", "reset", "blackhole", "half_open"]
CAPACITY = 2 * 2 * 4
"""What 2 worker processes of 4 threads can hold: a task per thread plus one claimed ahead."""
HALF_OPEN = 1.5
"""Seconds of half-open: workers keep their lease, replies of claims and settles are lost."""


def inject(proxies: Proxies, case: str) -> int:
    """Run one fault case; returns how many fault events it was (for the duplicate bound)."""
    proxy = proxies.proxy
    if case == "latency":  # 200 ms +- 100 ms per chunk, for 5 s
        proxy.set_mode("latency", delay=0.1, jitter=0.2)
        time.sleep(5.0)
        proxy.set_mode("pass")
        return 1
    if case == "reset":  # every connection reset every 2 s, five times
        for _ in range(5):
            time.sleep(2.0)
            proxy.reset_all()
        return 5
    proxy.set_mode(case)  # blackhole past the TTL; half-open shorter than the lease margin
    time.sleep(2 * TTL if case == "blackhole" else HALF_OPEN)
    proxy.set_mode("pass")
    proxy.reset_all()
    return 1


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_r12_network_faults_lose_nothing(
    chaos: MakeChaos, proxies: Proxies, backend: str, case: str
) -> None:
    run = chaos(backend, url=proxies.through)
    load = run.workload
    ids = load.enqueue(TASKS, sleep=0.1)
    processes = load.start(2, 4)
    wait_finished(load.history_dir, 50, timeout=60)
    time.sleep(BASELINE)
    began = time.time()
    baseline = rate(load.history_dir, began - BASELINE, began)
    flying = in_flight(load.history_dir, began)
    held = len(run.kit.backend.get_stage_info(1000))
    events = inject(proxies, case)
    ended = time.time()
    read_errors = reads_after_fault(run)
    load.drain(ids, timeout=240)
    alive = [p.is_alive() for p in processes]
    report = load.check(ids)
    recovered = recovery_time(load.history_dir, ended, baseline)
    run.record(
        case=case,
        report=report.summary(),
        duplicated=report.duplicated,
        stale_ack_rejected=report.stale_ack_rejected,
        in_flight_at_fault=flying,
        held_at_fault=held,
        duplicate_bound=CAPACITY * events,
        fault_events=events,
        fault_s=round(ended - began, 2),
        baseline_per_s=round(baseline, 1),
        rate_during_fault_per_s=round(rate(load.history_dir, began, ended), 1),
        recovery_to_80pct_s=None if recovered is None else round(recovered, 2),
        workers_alive=alive,
        test_process_read_errors_after_fault=read_errors,
    )
    report.assert_clean(max_duplicated=CAPACITY * events)
    assert read_errors == [], "the first read after the fault failed"
    assert all(alive), "no worker process died"
    assert recovered is not None, "throughput never came back to 80 % of the baseline"
    assert recovered <= RECOVERY_BOUND


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_r12_a_claim_whose_reply_was_lost_does_not_strand_its_task(
    chaos: MakeChaos, proxies: Proxies, backend: str
) -> None:
    """Half-open during a claim: the claim commits, its reply never arrives.

    The worker stays alive (its lease is refreshed over a direct connection)
    and claims again, as a worker pool does after an outage. The task must
    come back to it (or to anyone) within the recovery bound; a task staged
    to a live worker that does not know it holds it is stranded until that
    worker stops. (Redis repeats the claim with its token; the SQL backend
    adopts tasks staged to the worker but never handed out.)
    """
    run = chaos(backend, url=proxies.through)
    proxy = proxies.proxy
    direct = connect(run.url, namespace=run.namespace)
    try:
        (task_id,) = run.workload.enqueue(1, sleep=0)
        worker = "chaos:1:lost-reply"
        direct.backend.refresh_leases([worker], TTL)
        errors: list[str] = []

        first: list[Claim] = []

        def claim_once() -> None:
            try:
                first.extend(run.kit.backend.claim_tasks("r", worker, 1))
            except Exception as exc:
                errors.append(type(exc).__name__)

        # The reply to the request that commits the claim is the one lost.
        proxy.half_open_after(b"COMMIT" if backend == "mysql" else worker.encode())
        claimer = threading.Thread(target=claim_once)
        claimer.start()
        time.sleep(1.0)
        proxy.set_mode("pass")
        proxy.reset_all()
        claimer.join(70)
        lost_at = time.monotonic()
        claims: list[Claim] = list(first)  # a client that retried on its own got the answer
        while not claims and time.monotonic() - lost_at < TTL + R + P + SLACK:
            direct.backend.refresh_leases([worker], TTL)
            direct.backend.restore_abandoned(100)
            claims = run.kit.backend.claim_tasks("r", worker, 1)
            time.sleep(P)
        staged = [i.worker_id for i in direct.backend.get_stage_info(10)]
        run.record(
            first_claim_errors=errors,
            first_claim_returned=len(first),
            claimed_again=bool(claims),
            claimed_again_after_s=round(time.monotonic() - lost_at, 2),
            staged_to=staged,
        )
        assert errors or first, "the claim went through the fault"
        assert [c.task.id for c in claims] == [task_id], f"task stranded, staged to {staged}"
    finally:
        direct.close()
