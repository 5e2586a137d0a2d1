"""An App's task functions in a Django project: delayed inside the ORM's transaction, run
by ``manage.py taskkit_worker`` when ``TASKKIT["APP"]`` names the App."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from harness.django_project import taskkit_worker

from taskkit_core import NotFound

pytestmark = pytest.mark.usefixtures("django_project")


class Rollback(Exception):
    """Raised to roll a transaction.atomic() block back."""


@pytest.fixture(scope="module")
def app_worker(django_project: dict[str, Any]) -> Iterator[subprocess.Popen[bytes]]:
    settings = json.dumps({"APP": "shop.taskapp:app"})
    options = ("--processes", "1", "--polling-interval", "0.2")
    with taskkit_worker(*options, TASKKIT_DJANGO_TASKKIT=settings) as process:
        yield process


def test_a_task_delayed_in_a_committed_block_runs_and_sees_the_rows(
    app_worker: subprocess.Popen[bytes],
) -> None:
    from shop.models import Order
    from shop.taskapp import count_orders

    with transaction.atomic():
        Order.objects.create(note="tea")
        result = count_orders.delay("after tea")
    assert result.get(timeout=60) == {"note": "after tea", "orders": Order.objects.count()}


def test_a_task_delayed_in_a_rolled_back_block_never_existed() -> None:
    from shop.taskapp import count_orders

    with pytest.raises(Rollback), transaction.atomic():
        result = count_orders.delay("never")
        raise Rollback
    with pytest.raises(NotFound):
        result.get(timeout=1)
