"""The shop's django.tasks functions, found by the worker's autodiscovery."""

from __future__ import annotations

from typing import Any

from taskkit_sql.django.framework import TaskContext, task

from .models import Order


@task
def add(a: int, b: int) -> int:
    return a + b


@task(queue_name="reports")
def count_orders(note: str) -> int:
    return Order.objects.filter(note=note).count()


@task
def fail(message: str) -> None:
    raise ValueError(message)


@task
async def add_later(a: int, b: int) -> int:
    return a + b


@task(takes_context=True)
def who_runs(context: TaskContext, label: str) -> dict[str, Any]:
    return {"label": label, "attempt": context.attempt, "id": context.task_result.id}


@task
def echo(value: Any) -> Any:
    return value
