"""Atomic enqueue: inside transaction.atomic(), a task exists if and only if Django commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from taskkit_core.testing.support import RecordingHandler

from taskkit_core import MAX_PAYLOAD_BYTES, Kit

pytestmark = pytest.mark.usefixtures("django_project")


@pytest.fixture
def kit(alias: str) -> Iterator[Kit]:
    kit = Kit.from_url(f"django://{alias}", RecordingHandler())
    kit.backend.destroy_all()
    try:
        yield kit
    finally:
        kit.close()


def _orders(alias: str, note: str) -> Any:
    from shop.models import Order

    return Order.objects.using(alias).filter(note=note)


def _order(alias: str, note: str) -> None:
    from shop.models import Order

    Order.objects.using(alias).create(note=note)


def _exists(kit: Kit, task_id: str) -> bool:
    return kit.backend.lookup_tasks(task_id)[task_id] is not None


def test_a_committed_atomic_block_keeps_its_task(kit: Kit, alias: str) -> None:
    with transaction.atomic(using=alias):
        _order(alias, "committed")
        result = kit.initiate_task("default", "ship", {"order": 1})
        assert not _exists(kit, result.task_id), "visible before Django committed"
    assert _exists(kit, result.task_id)
    assert _orders(alias, "committed").count() == 1


def test_a_rolled_back_atomic_block_leaves_no_task(kit: Kit, alias: str) -> None:
    with pytest.raises(RuntimeError), transaction.atomic(using=alias):
        _order(alias, "rolled back")
        results = kit.initiate_tasks(
            {"group": "default", "name": "ship", "data": 1},
            {"group": "default", "name": "ship", "data": 2},
        )
        raise RuntimeError("the view failed")
    assert not any(_exists(kit, r.task_id) for r in results)
    assert kit.backend.group_stats(0) == []
    assert not _orders(alias, "rolled back").exists()


def test_a_savepoint_rolled_back_takes_only_its_own_tasks(kit: Kit, alias: str) -> None:
    with transaction.atomic(using=alias):
        outer = kit.initiate_task("default", "ship", "outer")
        try:
            with transaction.atomic(using=alias):
                _order(alias, "inner")
                inner = kit.initiate_task("default", "ship", "inner")
                raise ValueError("inner block fails")
        except ValueError:
            pass
        after = kit.initiate_task("default", "ship", "after")
    assert _exists(kit, outer.task_id) and _exists(kit, after.task_id)
    assert not _exists(kit, inner.task_id)
    assert not _orders(alias, "inner").exists()


def test_a_large_payload_follows_the_transaction(kit: Kit, alias: str) -> None:
    # Over one statement's size on MySQL/SQLite: written piece by piece, under a savepoint.
    big = "x" * (MAX_PAYLOAD_BYTES - 1000)
    with pytest.raises(RuntimeError), transaction.atomic(using=alias):
        dropped = kit.initiate_task("default", "ship", big)
        raise RuntimeError
    with transaction.atomic(using=alias):
        kept = kit.initiate_task("default", "ship", big)
    assert not _exists(kit, dropped.task_id)
    stored = kit.backend.lookup_tasks(kept.task_id)[kept.task_id]
    assert stored is not None and len(stored.data) == len(big) + 2


def test_outside_an_atomic_block_a_task_is_put_at_once(kit: Kit, alias: str) -> None:
    result = kit.initiate_task("default", "ship", "now")
    assert _exists(kit, result.task_id)
