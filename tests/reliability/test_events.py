"""R23 control events: pause, resume and shutdown reach every worker, cut off or not.

Two of the six worker processes reach the server through a FaultProxy in
front of the shared server; the proxy blackholes them while ``pause`` is
sent. When the link comes back, every connection through the proxy is
reset, as a firewall that lost the flows' state would do: the proxy drops
bytes on live connections, which TCP itself never does, so without the
reset a request sent during the blackhole would wait for a reply that was
thrown away (the R12 chaos tests do the same).

The claim log is the execution history: each start records when its claim
was made (``claimed``, the backend's clock, on this host). A pool keeps
running what it claimed before the pause, so the test asserts on claim
times, not start times.

SQLite is a file, with no network link to cut: there all six workers are
direct and the cut-off half of the test does not apply. Memory has no
worker processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from harness.app import ReliabilityHandler
from harness.history import read_history
from harness.proxy import FaultProxy
from taskkit_core.errors import PayloadTooLarge
from taskkit_core.events import EventBridge, make_event
from taskkit_core.opening import connect
from taskkit_core.testing import OpenConnection, wait_until

from taskkit_core import Kit, TaskkitProcess

from .conftest import SLACK, P, Workload, need_processes

WORKERS, CUT_WORKERS, THREADS = 6, 2, 2
TASKS, TASK_SLEEP = 1000, 0.1
EVENT_POLL = 1.0
"""The slowest event delivery of a connected worker: MariaDB receivers read the
events table every second (PostgreSQL, SQLite and Redis push at once)."""
RECONNECT = 2.0
"""A cut-off worker's calls fail at the reset; its retry backs off and reconnects."""
CUT = 1.5
"""Seconds the link stays blackholed: under the worker TTL (3 s), so no lease lapses."""
PAUSE_HOLD = 3.0
"""Seconds every worker must stay paused once the last one is due to be."""
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "redis": 6379}


@dataclass
class Link:
    """A FaultProxy in front of the test's server, and the URL that goes through it."""

    proxy: FaultProxy
    url: str

    def cut(self) -> None:
        self.proxy.set_mode("blackhole")

    def restore(self) -> None:
        self.proxy.set_mode("pass")
        self.proxy.reset_all()


def proxied_url(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's (user and password kept)."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}127.0.0.1:{port}"))


@pytest.fixture
def link(taskkit_url: str) -> Iterator[Link | None]:
    """A proxy to the server behind ``taskkit_url``; None where there is no network link."""
    parts = urlsplit(taskkit_url)
    scheme = parts.scheme.partition("+")[0]
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        yield None
        return
    port = parts.port or DEFAULT_PORTS[scheme]
    proxy = FaultProxy(parts.hostname, port).start()
    try:
        yield Link(proxy, proxied_url(taskkit_url, proxy.port))
    finally:
        proxy.stop()


def need_link(link: Link | None) -> Link:
    if link is None:
        pytest.skip("no network link to cut: this backend is a file or in memory")
    return link


def receive_through_errors(bridge: EventBridge, timeout: float) -> list[Any]:
    """The first events a receiver gets, calling again after errors as a worker does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            events = bridge.receive_events(0.2)
        except Exception:
            time.sleep(0.05)
            continue
        if events:
            return events
    return []


# -- the bridge alone --------------------------------------------------------------------


def test_r23_an_event_sent_while_a_receiver_is_cut_off_arrives_after_it_reconnects(
    taskkit_open: OpenConnection,
    taskkit_namespace: str,
    taskkit_options: dict[str, Any],
    link: Link | None,
) -> None:
    cut = need_link(link)
    sender = taskkit_open().bridge
    receiver = connect(cut.url, **{**taskkit_options, "namespace": taskkit_namespace})
    try:
        assert receiver.bridge.receive_events(0.05) == []  # listening, position taken
        cut.cut()
        sender.send_event(make_event("pause", {"r"}))
        time.sleep(CUT)  # the fault: the receiver stays cut off for a while
        cut.restore()
        restored = time.monotonic()
        events = receive_through_errors(receiver.bridge, 30)
        took = time.monotonic() - restored
        assert events == [make_event("pause", {"r"})]
        assert took <= RECONNECT + EVENT_POLL + SLACK, f"delivered {took:.2f} s after the cut"
        assert receive_through_errors(receiver.bridge, 1.0) == [], "delivered once"
    finally:
        receiver.close()


def test_r23_an_event_naming_200_long_groups_is_delivered_whole(
    taskkit_open: OpenConnection,
) -> None:
    """Larger than PostgreSQL's 8,000-byte NOTIFY payload: the row carries it, not NOTIFY."""
    groups = [f"{i:03d}" + "g" * 197 for i in range(200)]
    receiver, sender = taskkit_open().bridge, taskkit_open().bridge
    assert receiver.receive_events(0.05) == []
    event = make_event("pause", groups)
    assert len(json.dumps(event)) > 40_000
    sender.send_event(event)
    assert receive_through_errors(receiver, 15) == [event]


def test_r23_an_event_over_10_mib_is_refused_before_it_is_sent(
    taskkit_open: OpenConnection,
) -> None:
    groups = [f"{i:05d}" + "g" * 395 for i in range(27_000)]  # about 10.9 MB of JSON
    receiver, sender = taskkit_open().bridge, taskkit_open().bridge
    assert receiver.receive_events(0.05) == []
    with pytest.raises(PayloadTooLarge, match="control event"):
        sender.send_event(make_event("pause", groups))
    assert receiver.receive_events(0.5) == [], "nothing was sent"


# -- worker processes ----------------------------------------------------------------------


def starts(workload: Workload) -> list[dict[str, Any]]:
    return [r for r in read_history(workload.history_dir, "exec") if r["event"] == "start"]


def claims_after(records: list[dict[str, Any]], pid: int, after: float) -> list[float]:
    return sorted(r["claimed"] for r in records if r["pid"] == pid and r["claimed"] > after)


def exit_times(processes: list[TaskkitProcess], timeout: float) -> dict[int, float]:
    """Monotonic time each process was first seen dead (polled every 20 ms)."""
    seen: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(processes) and time.monotonic() < deadline:
        for process in processes:
            if process.pid is not None and process.pid not in seen and not process.is_alive():
                seen[process.pid] = time.monotonic()
        time.sleep(0.02)
    return seen


def start_behind(workload: Workload, url: str, processes: int) -> Workload:
    """Worker processes (in the workload's namespace and history) that connect to ``url``."""
    namespace = workload.kit.backend.namespace
    connection = connect(url, namespace=namespace)
    kit = Kit(
        connection.backend,
        connection.bridge,
        ReliabilityHandler(workload.history_dir),
        settings=workload.kit.settings,
        backend_options={"namespace": namespace},
    )
    behind = Workload(kit, workload.history_dir)
    behind.start(processes, THREADS)
    return behind


def test_r23_pause_resume_and_shutdown_reach_every_worker(
    workload: Workload, link: Link | None
) -> None:
    need_processes(workload)
    kit, backend = workload.kit, workload.kit.backend
    ids = workload.enqueue(TASKS, sleep=TASK_SLEEP)
    cut_count = CUT_WORKERS if link is not None else 0
    direct = workload.start(WORKERS - cut_count, THREADS)
    behind = start_behind(workload, link.url, cut_count) if link is not None else None
    try:
        cut_off = behind.processes if behind is not None else []
        processes = direct + cut_off
        pids = {p.pid: p in cut_off for p in processes if p.pid is not None}
        assert len(pids) == WORKERS
        wait_until(lambda: {r["pid"] for r in starts(workload)} >= set(pids), 60)

        # Pause, with the cut-off workers unreachable while it is sent.
        if link is not None:
            link.cut()
        kit.send_pause_event()
        sent = time.time()
        if link is not None:
            time.sleep(CUT)  # the fault's length, not a wait for an outcome
            link.restore()
        restored = time.time()
        paused_by = {
            pid: (restored + RECONNECT if cut else sent) + EVENT_POLL + SLACK
            for pid, cut in pids.items()
        }
        hold_until = max(paused_by.values()) + PAUSE_HOLD
        time.sleep(max(0.0, hold_until - time.time()))  # every worker must stay paused
        staged = backend.get_stage_info(1000)
        waiting = backend.get_queued_tasks("r", 10)
        resumed = time.time()  # before the send: a worker may claim before it returns
        kit.send_resume_event()

        records = starts(workload)
        late = {
            pid: [round(c - sent, 2) for c in claims_after(records, pid, paused_by[pid])]
            for pid in pids
        }
        late = {pid: [c for c in at if c < resumed - sent] for pid, at in late.items() if at}
        assert not any(late.values()), f"claims while paused (s after the pause): {late}"
        for info in staged:
            pid = next(p for p in pids if f":{p}:" in info.worker_id)
            assert info.began <= paused_by[pid], f"staged while paused: {info}"
        assert waiting, "tasks were waiting, so a worker that was not paused would have claimed"

        # Resume: every worker claims again.
        def resumed_all() -> dict[int, float]:
            records = starts(workload)
            first = {pid: claims_after(records, pid, resumed)[:1] for pid in pids}
            return {pid: c[0] for pid, c in first.items() if c} if all(first.values()) else {}

        first_claims = wait_until(resumed_all, 30)
        resume_lag = {pid: round(at - resumed, 2) for pid, at in first_claims.items()}
        assert max(resume_lag.values()) <= EVENT_POLL + P + SLACK, resume_lag

        # Shutdown: every worker drains and exits 0.
        kit.send_shutdown_event()
        shut = time.monotonic()
        timeout = kit.settings.shutdown_timeout
        exited = exit_times(processes, timeout + 30)
        exit_lag = {pid: round(at - shut, 2) for pid, at in exited.items()}
        assert set(exited) == set(pids), f"still running after shutdown: {exit_lag}"
        assert [p.exitcode for p in processes] == [0] * WORKERS
        assert max(exit_lag.values()) <= timeout + EVENT_POLL + SLACK, exit_lag

        report = workload.check(ids)
        queued = backend.get_queued_tasks("r", TASKS)
        print(
            f"\nR23 {backend.url.partition(':')[0]}: cut-off workers {cut_count}, "
            f"resume lag {sorted(resume_lag.values())} s, "
            f"exit after shutdown {sorted(exit_lag.values())} s; {report.summary()}"
        )
        for metric in ("lost", "unexpected", "acked_twice", "result_inconsistent", "failed"):
            assert getattr(report, metric) == 0, report.summary()
        # A cut-off worker might lose a claim it was running; at most what it holds runs twice.
        assert report.duplicated <= cut_count * 2 * THREADS, report.summary()
        assert backend.get_stage_info(10) == [], "nothing is left staged after the shutdown"
        assert report.stuck == len(queued), "every task that did not run is back in the queue"
    finally:
        if behind is not None:
            behind.stop()
            behind.kit.close()
