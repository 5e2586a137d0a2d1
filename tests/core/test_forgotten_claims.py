"""ReleaseForgottenClaims: a stage the worker does not hold goes back, a claim in flight stays."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from taskkit_core.opening import connect
from taskkit_core.worker.forgotten_claims import ReleaseForgottenClaims
from taskkit_core.worker.holdings import Holdings

from taskkit_core import Backend, Task

WORKER = "worker-1"


@pytest.fixture
def backend() -> Iterator[Backend]:
    connection = connect("memory://", namespace=f"forgotten_{secrets.token_hex(4)}")
    connection.backend.refresh_leases([WORKER], 60)
    yield connection.backend
    connection.close()


def _queued(backend: Backend) -> list[str]:
    return [t.id for t in backend.get_queued_tasks("g", 10)]


def test_a_stage_the_worker_never_held_goes_back_on_the_second_look(backend: Backend) -> None:
    task = Task.init("g", "n", b"{}")
    backend.put_tasks(task)
    backend.claim_tasks("g", WORKER, 1)  # staged, but no pool of this process took it
    service = ReleaseForgottenClaims(backend, WORKER, Holdings(), interval=1)
    service()
    assert _queued(backend) == [], "one look is not enough: a claim may be in flight"
    service()
    assert _queued(backend) == [task.id]


def test_a_claim_that_arrives_between_looks_is_kept(backend: Backend) -> None:
    holdings = Holdings()
    backend.put_tasks(Task.init("g", "n", b"{}"))
    claims = backend.claim_tasks("g", WORKER, 1)
    service = ReleaseForgottenClaims(backend, WORKER, holdings, interval=1)
    service()  # the claim's answer has not reached the pool yet
    holdings.took(claims)
    service()
    service()
    assert [i.task_id for i in backend.get_stage_info(10)] == [claims[0].task.id]


def test_a_claim_call_that_returns_only_after_several_looks_is_kept(backend: Backend) -> None:
    """Under GIL pressure the answer of a claim can reach the pool seconds after its stage."""
    holdings = Holdings()
    backend.put_tasks(Task.init("g", "n", b"{}"))
    service = ReleaseForgottenClaims(backend, WORKER, holdings, interval=1)
    with holdings.claiming():
        claims = backend.claim_tasks("g", WORKER, 1)
        for _ in range(4):
            service()
        holdings.took(claims)
    service()
    service()
    assert [i.task_id for i in backend.get_stage_info(10)] == [claims[0].task.id]
    assert _queued(backend) == []


def test_a_claim_held_for_many_looks_is_kept(backend: Backend) -> None:
    """A long task, or an outcome the settler could not write yet."""
    holdings = Holdings()
    backend.put_tasks(Task.init("g", "n", b"{}"))
    holdings.took(backend.claim_tasks("g", WORKER, 1))
    service = ReleaseForgottenClaims(backend, WORKER, holdings, interval=1)
    for _ in range(5):
        service()
    assert len(backend.get_stage_info(10)) == 1
    assert _queued(backend) == []


def test_stages_of_other_workers_are_left_alone(backend: Backend) -> None:
    backend.refresh_leases(["worker-2"], 60)
    backend.put_tasks(Task.init("g", "n", b"{}"))
    backend.claim_tasks("g", "worker-2", 1)
    service = ReleaseForgottenClaims(backend, WORKER, Holdings(), interval=1)
    service()
    service()
    assert [i.worker_id for i in backend.get_stage_info(10)] == ["worker-2"]
