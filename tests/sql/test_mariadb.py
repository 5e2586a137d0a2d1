"""MariaDB specifics: names compare byte for byte, payloads up to 10 MiB fit."""

from __future__ import annotations

import dataclasses

from sqlalchemy import text
from taskkit_core.backend import Backend, Claim, Outcome
from taskkit_core.task import MAX_PAYLOAD_BYTES, Task
from taskkit_core.testing import make_task
from taskkit_sql.backend import SqlBackend
from taskkit_sql.schema import build_tables

from .support import ON_MARIADB, plain_engine

LOOKALIKES = ["w", "W", "w ", "wö", "wo\u0308", "w-\U0001f600", "w-\U0001f601"]
"""Equal under MariaDB's default collation (utf8mb4_general_ci) or PAD SPACE; distinct here."""


def _payload(size: int, seed: int = 0) -> bytes:
    return bytes((i + seed) % 251 for i in range(size))


@ON_MARIADB
def test_names_are_stored_as_bytes(backend: Backend, taskkit_url: str) -> None:
    tasks = build_tables(backend.namespace).tasks.name
    with plain_engine(taskkit_url) as engine, engine.connect() as conn:
        types: dict[str, str] = dict(
            conn.execute(
                text(
                    "SELECT column_name, column_type FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() AND table_name = :table"
                ),
                {"table": tasks},
            ).all()
        )
    assert types["group_name"] == "varbinary(1600)"
    assert types["data"] == types["result"] == "longblob"


@ON_MARIADB
def test_lookalike_worker_scheduler_and_lock_names_stay_apart(backend: SqlBackend) -> None:
    backend.refresh_leases(set(LOOKALIKES), 60)
    assert sorted(w for w, _ in backend.get_leases()) == sorted(LOOKALIKES)
    for index, name in enumerate(LOOKALIKES):
        assert backend.persist_scheduler_state_and_put_tasks(name, b"%d" % index, expected=None)
    assert [backend.get_scheduler_state(n) for n in LOOKALIKES] == [
        b"%d" % i for i in range(len(LOOKALIKES))
    ]
    locks = [backend.get_lock(name) for name in LOOKALIKES]
    try:
        assert all(lock.acquire() for lock in locks)
    finally:
        for lock in locks:
            lock.release()


@ON_MARIADB
def test_a_full_length_name_of_four_byte_characters_fits(backend: SqlBackend) -> None:
    group = "\U0001f600" * 400
    task = make_task(group=group, name="\U0001f601" * 400)
    backend.put_tasks(task)
    (claim,) = backend.claim_tasks(group, "w1", 5)
    assert claim.task == task
    assert backend.claim_tasks("\U0001f600" * 399, "w1", 5) == []


@ON_MARIADB
def test_ten_mib_payloads_and_results_round_trip_everywhere(backend: SqlBackend) -> None:
    data, result = _payload(MAX_PAYLOAD_BYTES), _payload(MAX_PAYLOAD_BYTES, seed=7)
    eager = Task.init("g", "echo", data)
    backend.put_done_task(eager, result=result)
    assert backend.get_result(eager.id) == (eager, result)
    queued = Task.init("g", "echo", data)
    backend.put_tasks(queued)
    backend.put_tasks(dataclasses.replace(queued, data=b"a second put changes nothing"))
    (claim,) = backend.claim_tasks("g", "w1", 1)
    assert claim.task == queued
    late = Claim(claim.task, "someone-else", claim.attempt, claim.began)
    assert backend.settle(Outcome.succeeded(late, result)) == [False]
    assert backend.settle(Outcome.succeeded(claim, result)) == [True]
    assert backend.get_result(queued.id) == (queued, result)


@ON_MARIADB
def test_one_put_of_many_large_tasks_is_split_under_the_packet_limit(backend: Backend) -> None:
    tasks = [Task.init("g", "echo", _payload(3 * 1024 * 1024, seed=i)) for i in range(6)]
    backend.put_tasks(*tasks)
    found = backend.lookup_tasks(*(t.id for t in tasks))
    assert [found[t.id] for t in tasks] == tasks
