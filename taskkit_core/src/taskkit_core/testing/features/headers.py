"""Headers: a small str-to-str map carried with each task from put to handler."""

from __future__ import annotations

import pytest

from ...backend import Backend, Outcome
from ...errors import InvalidTaskError
from ...kit import Kit
from ...task import MAX_HEADERS_BYTES
from ..support import Start, claim_one, make_task

HEADERS = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tenant": "é"}


class HeaderContract:
    """Headers come back exactly as put, through lookups, claims, retries and read-backs."""

    def test_headers_round_trip(self, backend: Backend) -> None:
        task = make_task(headers=HEADERS)
        backend.put_tasks(task)
        assert backend.lookup_tasks(task.id)[task.id] == task
        claim = claim_one(backend)
        assert dict(claim.task.headers) == HEADERS
        backend.settle(Outcome.retried(claim, 0))
        assert dict(claim_one(backend).task.headers) == HEADERS
        info = backend.read_task(task.id)
        assert info is not None and dict(info.task.headers) == HEADERS

    def test_a_task_without_headers_has_an_empty_map(self, backend: Backend) -> None:
        task = make_task()
        backend.put_tasks(task)
        assert dict(claim_one(backend).task.headers) == {}

    def test_headers_at_the_size_limit_round_trip(self, backend: Backend) -> None:
        value = "v" * (MAX_HEADERS_BYTES - len('{"k": ""}'))
        task = make_task(headers={"k": value})
        backend.put_tasks(task)
        assert claim_one(backend).task.headers["k"] == value


class HeaderKitContract:
    """What a handler sees, and what is refused."""

    def test_the_handler_sees_the_headers(self, kit: Kit, start_threads: Start) -> None:
        result = kit.initiate_task("g", "headers", None, headers=HEADERS)
        start_threads()
        assert result.get(timeout=10) == HEADERS

    @pytest.mark.parametrize(
        "headers",
        [
            {f"k{i}": "" for i in range(65)},
            {"k" * 129: "v"},
            {"": "v"},
            {"k": "v" * MAX_HEADERS_BYTES},
            {"k": 1},
        ],
    )
    def test_headers_over_a_limit_are_refused(self, kit: Kit, headers: dict[str, str]) -> None:
        with pytest.raises(InvalidTaskError):
            kit.initiate_task("g", "echo", 1, headers=headers)
        assert kit.backend.group_stats(0) == []
