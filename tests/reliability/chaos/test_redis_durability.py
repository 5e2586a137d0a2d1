"""R13 Redis durability settings, R14 eviction and memory pressure, R15 failover.

These are "documented loss" tests: Redis loses acknowledged writes in
some configurations, README.md (promise 9) and taskkit_redis/README.md say
which, and these tests measure how many. They fail only where taskkit
breaks its side of the promise: a loss with ``appendfsync always``, a
missing start-up warning, a missing README sentence, a crashed worker.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from harness.proxy import FaultProxy
from harness.servers import RedisServer
from taskkit_core.testing import wait_until
from taskkit_core.worker.server_warnings import log_server_warnings

from ..conftest import Workload
from .conftest import PASSWORD, MakeChaos, Proxies, start_server
from .measure import finished

pytestmark = pytest.mark.chaos

ROOT = Path(__file__).resolve().parents[3]
AOF = {
    "always": ("--appendonly", "yes", "--appendfsync", "always"),
    "everysec": ("--appendonly", "yes", "--appendfsync", "everysec"),
    "no_aof": ("--appendonly", "no"),
}


class Enqueuer(threading.Thread):
    """Puts tasks one per call, retrying through errors; keeps (id, acked at) of each."""

    def __init__(self, load: Workload, count: int, pause: float = 0.0, **data: object) -> None:
        super().__init__(daemon=True)
        self.load, self.count, self.pause, self.data = load, count, pause, data
        self.acked: list[tuple[str, float]] = []
        self.errors: list[str] = []
        self.stop_on_error = False

    def run(self) -> None:
        seq = 0
        while len(self.acked) < self.count:
            try:
                (task_id,) = self.load.enqueue(1, seq, **self.data)
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                if self.stop_on_error:
                    return
                time.sleep(0.05)
                continue
            self.acked.append((task_id, time.time()))
            seq += 1
            if self.pause:
                time.sleep(self.pause)


def missing(load: Workload, task_ids: list[str]) -> list[str]:
    """The ids the backend no longer knows."""
    gone = []
    for start in range(0, len(task_ids), 1000):
        found = load.kit.backend.lookup_tasks(*task_ids[start : start + 1000])
        gone += [task_id for task_id, task in found.items() if task is None]
    return gone


def redis_warnings(caplog: pytest.LogCaptureFixture, load: Workload) -> list[str]:
    """What a worker process starting on this server logs about its settings."""
    caplog.set_level(logging.WARNING, logger="taskkit.server")
    log_server_warnings(load.kit.backend)
    return [r.getMessage() for r in caplog.records if r.name == "taskkit.server"]


def readme_says(*phrases: str) -> bool:
    """Whether README.md says each phrase (markdown emphasis and line breaks ignored)."""
    text = re.sub(r"[*_`\s]+", " ", (ROOT / "README.md").read_text()).lower()
    return all(phrase.lower() in text for phrase in phrases)


@pytest.mark.parametrize("fsync", sorted(AOF))
def test_r13_redis_loses_acked_puts_only_as_documented(
    chaos: MakeChaos, fsync: str, caplog: pytest.LogCaptureFixture
) -> None:
    run = chaos("redis", *AOF[fsync])
    assert isinstance(run.server, RedisServer)
    warned = [w for w in redis_warnings(caplog, run.workload) if "appendonly no" in w]
    enqueuer = Enqueuer(run.workload, 10_000)
    enqueuer.start()
    wait_until(lambda: len(enqueuer.acked) >= 5000, 120)
    killed = time.time()
    run.server.stop(crash=True)
    time.sleep(1.0)
    run.server.start()
    enqueuer.join(180)
    acked = [task_id for task_id, _ in enqueuer.acked]
    at = dict(enqueuer.acked)
    lost = missing(run.workload, acked)
    before_kill = sum(1 for _, t in enqueuer.acked if t <= killed)
    run.record(
        appendfsync=fsync,
        acked=len(acked),
        acked_before_kill=before_kill,
        lost=len(lost),
        lost_acked_within_s_of_kill=round(max((killed - at[i] for i in lost), default=0.0), 3),
        put_errors_during_outage=len(enqueuer.errors),
        startup_warning=warned,
    )
    assert len(acked) == 10_000
    if fsync == "always":
        assert lost == [], "appendfsync always loses no acknowledged put"
    elif fsync == "everysec":
        recent = {i for i, t in enqueuer.acked if killed - 2.0 <= t <= killed}
        assert set(lost) <= recent, "everysec loses at most the last ~2 s of puts"
    else:
        assert warned, "a worker warns at start-up about appendonly no"
        assert readme_says("without AOF everything since the last snapshot")
    if fsync != "no_aof":
        assert not warned


@pytest.mark.parametrize("policy", ["noeviction", "allkeys-lru"])
def test_r14_redis_memory_pressure(
    chaos: MakeChaos, policy: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = (*AOF["everysec"], "--maxmemory", "8mb", "--maxmemory-policy", policy)
    run = chaos("redis", *settings)
    assert isinstance(run.server, RedisServer)
    warned = [w for w in redis_warnings(caplog, run.workload) if "maxmemory-policy" in w]
    enqueuer = Enqueuer(run.workload, 12_000, pad="x" * 2000)  # ~3x what fits in 8 MB
    enqueuer.stop_on_error = True
    enqueuer.run()
    acked = [task_id for task_id, _ in enqueuer.acked]
    raw = run.server.client()
    try:
        keys_before = raw.dbsize()
        refused = sum(1 for _ in range(20) if not _put_one(run.workload))
        keys_after = raw.dbsize()
    finally:
        raw.close()
    lost = missing(run.workload, acked)
    done_by_worker = _work_for(run.workload, 10.0) if policy == "noeviction" else None
    run.record(
        policy=policy,
        acked=len(acked),
        first_error=enqueuer.errors[:1],
        lost_acked=len(lost),
        extra_puts_refused=refused,
        keys_before=keys_before,
        keys_after=keys_after,
        finished_by_a_worker_in_10s_when_full=done_by_worker,
        startup_warning=warned,
    )
    if policy == "noeviction":
        assert enqueuer.errors, "a full Redis refuses puts"
        assert enqueuer.errors[0].startswith("OutOfMemoryError: command not allowed")
        assert refused == 20
        assert lost == [], "no acknowledged task disappears"
        assert keys_after == keys_before
        assert not warned
    else:
        assert warned and "allkeys-lru" in warned[0], "the policy is named at start-up"
        assert readme_says("evicting policies")


def _put_one(load: Workload) -> bool:
    try:
        load.enqueue(1, pad="x" * 2000)
    except redis.RedisError:
        return False
    return True


def _work_for(load: Workload, seconds: float) -> dict[str, int]:
    """Run one worker process for ``seconds`` on the full server: what got done."""
    (process,) = load.start(1, 2)
    time.sleep(seconds)
    executions = finished(load.history_dir)
    process.kill()
    process.join(10)
    done = len(load.kit.backend.get_done_task_ids(None, None, 100_000))
    return {"executions_ended": executions, "finished_tasks_stored": done}


def _replication_up(replica: RedisServer) -> bool:
    client = replica.client()
    try:
        return client.info("replication").get("master_link_status") == "up"
    finally:
        client.close()


def test_r15_redis_failover_loses_acked_writes_as_documented(
    chaos: MakeChaos, proxies: Proxies, tmp_path: Path
) -> None:
    """A lagging replica is promoted while the primary is stopped; loss is measured."""
    primary = start_server("redis", tmp_path, *AOF["always"], "--masterauth", PASSWORD)
    assert isinstance(primary, RedisServer)
    link = FaultProxy("127.0.0.1", primary.port).start()  # the replication link
    replica_dir = tmp_path / "replica"
    replica_dir.mkdir()
    follow = ("--replicaof", "127.0.0.1", str(link.port), "--masterauth", PASSWORD)
    replica = RedisServer(replica_dir, [*AOF["always"], *follow], password=PASSWORD)
    try:
        replica.start()
        wait_until(lambda: _replication_up(replica), 30)
        _failover(chaos, proxies, primary, replica, link)
    finally:
        link.stop()
        primary.destroy()
        replica.destroy()


def _failover(
    chaos: MakeChaos,
    proxies: Proxies,
    primary: RedisServer,
    replica: RedisServer,
    link: FaultProxy,
) -> None:
    run = chaos("redis", server=primary, url=proxies.through)
    load = run.workload
    # Outcomes the old primary acknowledged are lost: their tasks stay staged to
    # live workers until those notice they no longer hold them.
    load.kit.settings = replace(load.kit.settings, forgotten_claim_interval=2.0)
    processes = load.start(1, 4)
    enqueuer = Enqueuer(load, 3000, pause=0.003, sleep=0.01)
    enqueuer.start()
    wait_until(lambda: len(enqueuer.acked) >= 1000, 60)
    link.set_mode("latency", delay=1.0)  # the replica falls behind
    time.sleep(1.5)
    _promote(replica, primary, proxies.proxy)
    failed_over = time.time()
    link.set_mode("pass")
    enqueuer.join(120)
    acked = [task_id for task_id, _ in enqueuer.acked]
    load.drain(acked, timeout=90)
    alive = [p.is_alive() for p in processes]
    report = load.check(acked)
    staged = {i.task_id: i.worker_id for i in load.kit.backend.get_stage_info(1000)}
    live = {w for w, _ in load.kit.backend.get_leases()}
    run.record(
        stuck_staged_to_live_worker=sum(
            1 for i in report.examples.get("stuck", []) if staged.get(i) in live
        ),
        acked=len(acked),
        acked_before_failover=sum(1 for _, t in enqueuer.acked if t <= failed_over),
        report=report.summary(),
        lost=report.lost,
        duplicated=report.duplicated,
        acked_twice=report.acked_twice,
        workers_alive=alive,
    )
    assert readme_says("replication failover can lose acknowledged writes")
    assert all(alive), "no worker process crashed"


def _promote(replica: RedisServer, primary: RedisServer, clients: FaultProxy) -> None:
    """Stop the primary, promote the replica, move the clients, demote the old primary."""
    primary.pause()
    new = replica.client()
    new.replicaof("NO", "ONE")
    new.close()
    clients.target = ("127.0.0.1", replica.port)
    clients.reset_all()
    primary.resume()
    old = primary.client()
    old.replicaof("127.0.0.1", replica.port)
    old.close()
