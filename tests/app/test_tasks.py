"""Task functions end to end: inline calls, delay, typed results, options and bulk."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sql.support import plain_engine
from taskkit_core.testing import wait_until

from app.shop import Order, Receipt, Size, add, async_add, checkout, collect, fail, wait_for_other
from app.shop_reports import render
from taskkit_core import (
    MAX_PAYLOAD_BYTES,
    App,
    Failed,
    PayloadTooLarge,
    PutResult,
    Task,
    TaskResult,
)

from .conftest import StartWorkers


def an_order() -> Order:
    return Order(
        id=uuid.uuid4(),
        placed=datetime(2030, 1, 31, 8, 0, tzinfo=UTC),
        total=Decimal("12.30"),
        size=Size.LARGE,
        lines=("tea", "cake"),
    )


def test_a_task_function_is_still_a_plain_function() -> None:
    assert add(2, 3) == 5
    assert add.__name__ == "add" and add.__doc__ is None
    assert add.name == "app.shop.add" and add.group == "default"
    assert (checkout.name, checkout.group) == ("shop.checkout", "orders")


def test_delay_returns_what_the_function_returns(shop: App, workers: StartWorkers) -> None:
    order = an_order()
    added, checked_out = add.delay(1, 2), checkout.delay(order, note="gift")
    collected, async_result = collect.delay(1, 2, 3, x="y"), async_add.delay(20, 22)
    workers(shop)
    assert added.get(timeout=30) == 3
    receipt = checked_out.get(timeout=30)
    assert receipt == Receipt(order, f"{order.id}:gift".encode(), os.getpid())
    assert isinstance(receipt.order.placed, datetime) and receipt.order.size is Size.LARGE
    assert collected.get(timeout=30) == (6, {"x": "y"})
    assert async_result.get(timeout=30) == 42


def test_included_modules_are_registered_for_the_workers(
    memory_shop: App, workers: StartWorkers
) -> None:
    assert memory_shop.registry.get(render.name) is render
    assert set(memory_shop.threads) == {"default", "orders", "slow", "reports", "ordered"}
    result = render.delay(3)
    workers(memory_shop)
    assert result.get(timeout=10) == "3 pages"


def test_arguments_that_do_not_fit_raise_type_error_and_queue_nothing(memory_shop: App) -> None:
    with pytest.raises(TypeError, match="missing a required argument: 'b'"):
        add.delay(1)  # type: ignore[call-arg]
    with pytest.raises(
        TypeError, match=r"argument 'a' does not match its annotation: Expected `int`"
    ):
        add.delay("1", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 'note' cannot be encoded as JSON"):
        checkout.delay(an_order(), note=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 'order'"):
        checkout.delay({"id": "not a uuid"})  # type: ignore[arg-type]
    assert memory_shop.kit.backend.group_stats(0) == []


def test_options_set_the_due_time_and_the_result_ttl(
    memory_shop: App, workers: StartWorkers
) -> None:
    later = add.options(delay=timedelta(seconds=1)).delay(1, 1)
    kept_briefly = add.options(result_ttl=0.5).delay(2, 2)
    (task,) = memory_shop.kit.backend.lookup_tasks(later.id).values()
    assert task is not None and task.due >= time.time() + 0.5
    workers(memory_shop)
    assert kept_briefly.get(timeout=10) == 4
    assert later.get(timeout=10) == 2
    wait_until(
        lambda: memory_shop.kit.backend.lookup_tasks(kept_briefly.id)[kept_briefly.id] is None
    )
    with pytest.raises(ValueError, match="due or delay"):
        add.options(delay=1, due=time.time())


def test_eager_calls_run_here_and_store_their_result(memory_shop: App) -> None:
    result = add.options(eager=True).delay(3, 4)
    assert result.get(timeout=1) == 7
    failed = fail.options(eager=True).delay("eagerly")
    with pytest.raises(Failed, match="ValueError: eagerly"):
        failed.get(timeout=1)
    assert async_add.options(eager=True).delay(1, 2).get(timeout=5) == 3


def test_delay_many_puts_every_call_in_one_backend_call(
    memory_shop: App, workers: StartWorkers
) -> None:
    backend = memory_shop.kit.backend
    puts: list[int] = []
    put_tasks = backend.put_tasks

    def counting_put(*tasks: Task, connection: Any = None) -> Sequence[PutResult]:
        puts.append(len(tasks))
        return put_tasks(*tasks, connection=connection)

    backend.put_tasks = counting_put  # type: ignore[method-assign]
    try:
        results = add.delay_many(add.call(i, i) for i in range(50))
        mixed = memory_shop.delay_many(
            [add.call(1, 1), render.call(2), add.options(delay=60).call(0, 0)]
        )
    finally:
        del backend.put_tasks
    assert puts == [50, 3]
    workers(memory_shop)
    assert [r.get(timeout=10) for r in results] == [2 * i for i in range(50)]
    assert [r.get(timeout=10) for r in mixed[:2]] == [2, "2 pages"]


def test_a_result_handle_can_be_made_from_a_task_id(
    memory_shop: App, workers: StartWorkers
) -> None:
    task_id = checkout.delay(an_order()).id
    workers(memory_shop)
    again: TaskResult[object] = memory_shop.get_result(task_id)
    receipt = again.get(timeout=10)
    assert isinstance(receipt, Receipt), "decoded by the task function's codec"
    assert receipt.order.lines == ("tea", "cake")


def test_waiting_for_a_result_inside_a_task_is_prevented(
    memory_shop: App, workers: StartWorkers
) -> None:
    result = wait_for_other.delay()
    workers(memory_shop)
    with pytest.raises(Failed, match="ResultGetPrevented"):
        result.get(timeout=10)
    with pytest.raises(Failed, match="ResultGetPrevented"):
        wait_for_other.options(eager=True).delay().get(timeout=1)


@pytest.mark.parametrize("taskkit_url", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_delay_joins_the_applications_transaction(shop: App) -> None:
    with plain_engine(shop.url) as engine:
        with engine.connect() as conn:
            rolled_back = add.options(connection=conn).delay(1, 1)
            conn.rollback()
        with engine.begin() as conn:
            committed = add.options(connection=conn).delay(2, 2)
    found = shop.kit.backend.lookup_tasks(rolled_back.id, committed.id)
    assert found[rolled_back.id] is None and found[committed.id] is not None


def test_payload_limits_apply_before_anything_is_queued(memory_shop: App) -> None:
    with pytest.raises(PayloadTooLarge, match="10 MiB"):
        memory_shop.delay_many([render.call(1), collect.call(1, big="x" * MAX_PAYLOAD_BYTES)])
    assert memory_shop.kit.backend.group_stats(0) == []
