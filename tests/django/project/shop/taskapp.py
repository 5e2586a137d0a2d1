"""A taskkit App beside django.tasks: the project's workers run its tasks too (TASKKIT["APP"])."""

from __future__ import annotations

from taskkit_core import App

from .models import Order

app = App("django://", name="shop", group="shopapp")


@app.task
def count_orders(note: str) -> dict[str, object]:
    """Reads the ORM inside a taskkit worker: Django was set up before this module loaded."""
    return {"note": note, "orders": Order.objects.count()}
