"""Retry policies: the arithmetic, and what a worker does with them (and with RetryAfter)."""

from __future__ import annotations

import logging

import pytest

from app.shop import flaky, missing_key, retry_after
from taskkit_core import App, ConfigurationError, Failed, Retry, RetryAfter

from .conftest import StartWorkers


def test_backoff_grows_by_the_factor_up_to_the_cap() -> None:
    policy = Retry(max_attempts=10, base=0.5, factor=3.0, cap=10.0, jitter=False)
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.5, 4.5, 10.0, 10.0]
    assert Retry(base=1, cap=600, jitter=False).backoff(10_000) == 600.0


def test_full_jitter_draws_between_zero_and_the_backoff() -> None:
    policy = Retry(base=2.0, cap=100.0)
    draws = [policy.backoff(3) for _ in range(200)]
    assert all(0.0 <= d <= 16.0 for d in draws)
    assert len(set(draws)) > 100, "jittered delays differ"


def test_max_attempts_counts_the_first_run() -> None:
    policy = Retry(max_attempts=3, jitter=False)
    error = ValueError("boom")
    assert [policy.interval(n, error) for n in range(4)] == [1.0, 2.0, None, None]


def test_which_exceptions_retry() -> None:
    policy = Retry(on=(ConnectionError,), fail_on=(ConnectionRefusedError,), jitter=False)
    assert policy.interval(0, ConnectionResetError()) == 1.0
    assert policy.interval(0, ConnectionRefusedError()) is None, "fail_on wins"
    assert policy.interval(0, ValueError()) is None
    assert policy.interval(0, RetryAfter(7.5)) == 7.5, "RetryAfter retries whatever its type"
    assert policy.interval(2, RetryAfter(7.5)) is None, "but not past max_attempts"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"max_attempts": 2.5}, "max_attempts must be an int"),
        ({"factor": 0.5}, "factor must be at least 1.0"),
        ({"base": 5.0, "cap": 1.0}, "cap must be at least 5.0"),
        ({"on": ValueError}, "on must be a tuple of exception classes"),
        ({"fail_on": ("x",)}, "fail_on must be a tuple of exception classes"),
    ],
)
def test_bad_policies_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Retry(**arguments)  # type: ignore[arg-type]


def test_a_worker_retries_by_the_policy_and_logs_each_failure(
    memory_shop: App, workers: StartWorkers, caplog: pytest.LogCaptureFixture
) -> None:
    twice = flaky.delay(2)
    too_often = flaky.delay(5)
    at_once = missing_key.delay()
    with caplog.at_level(logging.WARNING, "taskkit.worker"):
        workers(memory_shop)
        assert twice.get(timeout=10) == [3, 2]
        with pytest.raises(Failed, match="ConnectionError: attempt 3 of 6"):
            too_often.get(timeout=10)
        with pytest.raises(Failed, match="KeyError: 'b'"):
            at_once.get(timeout=10)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    of_key = [line for line in lines if at_once.id in line[1]]
    assert of_key == [
        (
            "ERROR",
            f"task {at_once.id} ({missing_key.name}) attempt 1 failed for good: KeyError: 'b'",
        )
    ]
    of_twice = [level for level, message in lines if twice.id in message]
    assert of_twice == ["WARNING", "WARNING"]
    retried = next(r for r in caplog.records if twice.id in r.getMessage())
    assert "retry in 0.05 s: ConnectionError: attempt 1 of 3" in retried.getMessage()
    assert retried.exc_info is not None, "with its traceback"


def test_retry_after_runs_the_task_again_after_its_delay(
    memory_shop: App, workers: StartWorkers
) -> None:
    result = retry_after.delay(2, 0.05)
    workers(memory_shop)
    assert result.get(timeout=10) == 2
