"""More of the test shop's tasks, registered on ``app.shop.app`` through ``include``."""

from __future__ import annotations

from app.shop import app
from taskkit_core import TaskResult


@app.task(group="reports")
def render(pages: int) -> str:
    return f"{pages} pages"


@app.periodic(every=5, group="reports")
def heartbeat_report() -> str:
    return "tick"


def render_later(pages: int) -> TaskResult[str]:
    return render.delay(pages)
