"""A view that enqueues a django.tasks task with its order, and one that shows the result."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from taskkit_sql.django.framework import task_backends

from .models import Order
from .tasks import add


def enqueue_add(request: HttpRequest, a: int, b: int) -> JsonResponse:
    with transaction.atomic():
        Order.objects.create(note=f"add {a} {b}")
        result = add.enqueue(a, b)
    return JsonResponse({"id": result.id, "status": result.status})


def show_result(request: HttpRequest, result_id: str) -> JsonResponse:
    result = task_backends["default"].get_result(result_id)
    value = result.return_value if result.is_finished else None
    return JsonResponse({"status": result.status, "value": value})
