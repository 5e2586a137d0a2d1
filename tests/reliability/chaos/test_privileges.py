"""S10: least privilege. Workers run with data-only rights; migrations need more.

- PostgreSQL: a role with SELECT, INSERT, UPDATE, DELETE on the tables
  (and USAGE on sequences) and nothing else: no CREATE.
- MariaDB: a user with SELECT, INSERT, UPDATE, DELETE on the database.
- Redis: an ACL user limited to the namespace's keys (``~{N}:*``) and
  channels (``&{N}:*``) and to the commands taskkit sends.

The namespace is migrated with the privileged URL first; the R1-like
(exactly once, no fault) and R4-like (SIGKILL mid-task, recovery bound)
workloads then run with the restricted one.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from harness.history import read_history
from harness.servers import PrivateMariaDB, PrivatePostgres, PrivateServer, RedisServer
from taskkit_core.opening import migrate
from taskkit_core.testing import wait_until

from taskkit_core import TaskkitProcess

from ..conftest import SLACK, TTL, P, R, Workload
from .conftest import SERVER_BACKENDS, MakeChaos, new_namespace

pytestmark = pytest.mark.chaos

USER, USER_PASSWORD = "tk_app", "App-CANARY-41e2"
REDIS_COMMANDS = (
    "+@read +@write -@dangerous +eval +evalsha +script|load +script|exists "
    "+publish +subscribe +unsubscribe +ping +time +hello +client|setname"
)


def restrict(server: PrivateServer, namespace: str) -> str:
    """Create the least-privileged user on ``server``; its URL."""
    if isinstance(server, PrivatePostgres):
        server.sql(f"CREATE ROLE {USER} LOGIN PASSWORD '{USER_PASSWORD}'")
        server.sql(f"GRANT USAGE ON SCHEMA public TO {USER}")
        for what, rights in (("TABLES", "SELECT, INSERT, UPDATE, DELETE"), ("SEQUENCES", "USAGE")):
            server.sql(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public "
                f"GRANT {rights} ON {what} TO {USER}"
            )
        return server.url_for(USER, USER_PASSWORD)
    if isinstance(server, PrivateMariaDB):
        server.create_user(USER, USER_PASSWORD, "SELECT, INSERT, UPDATE, DELETE")
        return server.url_for(USER, USER_PASSWORD)
    assert isinstance(server, RedisServer)
    client = server.client()
    try:
        rules = f"on >{USER_PASSWORD} resetkeys ~{{{namespace}}}:* resetchannels &{{{namespace}}}:*"
        acl = [*rules.split(), *REDIS_COMMANDS.split()]
        client.execute_command("ACL", "SETUSER", USER, *acl)  # type: ignore[no-untyped-call]
    finally:
        client.close()
    return f"redis://{USER}:{USER_PASSWORD}@127.0.0.1:{server.port}/0"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_s10_least_privileged_workers_run_r1_and_r4(chaos: MakeChaos, backend: str) -> None:
    namespace = new_namespace()
    urls: list[str] = []

    def restricted(server: PrivateServer) -> str:
        urls.append(restrict(server, namespace))
        return urls[-1]

    run = chaos(backend, url=restricted, namespace=namespace)
    migration_refused = _migration_refused(urls[0], new_namespace())
    load = run.workload
    r1 = load.enqueue(1000, sleep=0.002)
    load.start(2, 4)
    load.drain(r1, timeout=120)
    r1_report = load.check(r1)
    assert r1_report.executions_per_task == {1: 1000}, r1_report.summary()
    load.stop()
    load.processes.clear()
    r4, killed_at, held = _kill_mid_task(load)
    r4_report = load.check([*r1, *r4])  # one history holds both runs
    worst = _worst_restart(load, killed_at, held)
    run.record(
        user=USER,
        migration_with_restricted_url=migration_refused,
        r1=r1_report.summary(),
        r4=r4_report.summary(),
        r4_held_by_killed=len(held),
        r4_worst_restart_s=round(worst, 2),
    )
    r1_report.assert_clean()
    r4_report.assert_clean(max_duplicated=len(held))
    assert worst <= TTL + R + P + SLACK
    if backend != "redis":
        assert migration_refused.startswith("refused"), "the restricted user cannot migrate"


def _migration_refused(url: str, namespace: str) -> str:
    try:
        migrate(url, namespace=namespace)
    except Exception as exc:
        return f"refused: {type(exc).__name__}: {str(exc)[-120:]}"
    return "allowed"


def _kill_mid_task(load: Workload) -> tuple[list[str], float, list[str]]:
    ids = load.enqueue(20, start=2000, sleep=1.0)
    (victim,) = load.start(1, 4)

    def holds_four(victim: TaskkitProcess = victim) -> list[str]:
        held = load.held_by(victim)
        return held if len(held) >= 4 else []

    held = wait_until(holds_four, 30)
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    killed_at = time.time()
    load.start(2, 4)
    load.drain(ids, timeout=120)
    return ids, killed_at, held


def _worst_restart(load: Workload, killed_at: float, held: list[str]) -> float:
    starts = [r for r in read_history(load.history_dir, "exec") if r["event"] == "start"]
    worst = 0.0
    for task_id in held:
        again = [r["at"] for r in starts if r["task_id"] == task_id and r["at"] > killed_at]
        worst = max(worst, min(again, default=float("inf")) - killed_at)
    return worst
