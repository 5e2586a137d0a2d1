"""Job control from task functions: priority, unique keys, timeouts and headers per call."""

from __future__ import annotations

import pytest
from taskkit_core.testing import wait_until

from app import shop
from app.shop import add, async_wait, cooperative_wait, record, urgent
from taskkit_core import App, Failed, InvalidTaskError, Unique

from .conftest import StartWorkers


def test_the_decorator_sets_defaults_and_options_override_them(
    memory_shop: App, workers: StartWorkers
) -> None:
    default = urgent.delay()
    overridden = urgent.options(priority=-5, timeout=2, headers={"tenant": "acme"}).delay()
    workers(memory_shop)
    assert default.get(timeout=10) == {"priority": 10, "timeout": 30.0, "headers": {}}
    assert overridden.get(timeout=10) == {
        "priority": -5,
        "timeout": 2.0,
        "headers": {"tenant": "acme"},
    }


def test_a_higher_priority_call_runs_first(memory_shop: App, workers: StartWorkers) -> None:
    shop.RECORDED.clear()
    calls = [record.options(priority=p).call(f"p{p}") for p in (0, -10, 50, 5)]
    results = memory_shop.delay_many(calls)
    workers(memory_shop, {"ordered": 1})
    assert [r.get(timeout=10) for r in results] == ["p0", "p-10", "p50", "p5"]
    assert shop.RECORDED == ["p50", "p5", "p0", "p-10"]


def test_a_unique_call_gives_the_holders_result(shop: App, workers: StartWorkers) -> None:
    first = add.options(unique="sum").delay(1, 1)
    again = add.options(unique=Unique("sum")).delay(5, 5)
    other = add.options(unique="another").delay(2, 2)
    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert again.id == first.id
    workers(shop)
    assert again.get(timeout=10) == 2
    assert other.get(timeout=10) == 4


def test_an_async_task_past_its_timeout_is_cancelled_on_the_loop(
    memory_shop: App, workers: StartWorkers
) -> None:
    shop.CANCELLED.clear()
    workers(memory_shop)
    stopped = async_wait.options(timeout=0.3).delay(30)
    with pytest.raises(Failed, match="TaskTimeout"):
        stopped.get(timeout=10)
    wait_until(lambda: [stopped.id] == shop.CANCELLED)
    assert async_wait.delay(0.01).get(timeout=10) == 0.01


def test_a_sync_task_stops_early_when_it_checks(memory_shop: App, workers: StartWorkers) -> None:
    workers(memory_shop)
    stopped = cooperative_wait.options(timeout=0.3).delay(30)
    with pytest.raises(Failed, match=r"exceeded its timeout of 0\.3 s"):
        stopped.get(timeout=10)
    assert cooperative_wait.delay(0.05).get(timeout=10) == 0.05


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"priority": 101}, "priority must be between -100 and 100"),
        ({"priority": "high"}, "priority must be an int"),
        ({"timeout": 0}, "timeout must be a positive"),
        ({"unique": ""}, "unique key must be 1 to 200 characters"),
        ({"headers": {"k": 1}}, "must map a str to a str"),
    ],
)
def test_bad_options_raise_one_line_and_queue_nothing(
    memory_shop: App, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidTaskError, match=message):
        add.options(**options).delay(1, 1)  # type: ignore[arg-type]
    assert memory_shop.kit.backend.group_stats(0) == []


def test_bad_decorator_defaults_are_refused_when_declared() -> None:
    app = App("memory://", name="declared")
    with pytest.raises(InvalidTaskError, match="priority must be between"):
        app.task(name="loud", priority=500)(lambda: None)
    with pytest.raises(InvalidTaskError, match="timeout must be a positive"):
        app.task(name="hasty", timeout=-1)(lambda: None)
    assert len(app.registry) == 0
