"""An App's task functions in a Django project: delayed inside the ORM's transaction, run
by ``manage.py taskkit_worker`` when ``TASKKIT["APP"]`` names the App."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from harness.django_project import manage, project_env

from taskkit_core import NotFound

pytestmark = pytest.mark.usefixtures("django_project")


class Rollback(Exception):
    """Raised to roll a transaction.atomic() block back."""


@pytest.fixture(scope="module")
def app_worker(django_project: dict[str, Any]) -> Iterator[subprocess.Popen[bytes]]:
    settings = json.dumps({"APP": "shop.taskapp:app"})
    command = manage("taskkit_worker", "--processes", "1", "--polling-interval", "0.2")
    env = project_env(TASKKIT_DJANGO_TASKKIT=settings)
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()[-2000:]


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
