"""A small shop's background jobs: the example app ``taskkit demo`` runs.

Five kinds of task, in two groups:

- ``resize_image`` (fast), ``send_email`` (fast; the mail server is
  sometimes busy, so some fail once and are retried), ``charge_card``
  (slower; the payment gateway times out now and then, retried with
  backoff) and ``import_feed`` (a corrupt feed fails for good) in the group
  ``default``;
- ``render_report`` (slow, a tenth of a second per page) in ``reports``.

Every result is a JSON object that says when it was produced
(``finished_at``), which is how the demo measures latency.

Run it with a real worker, like any app (``TASKKIT_URL`` names the backend;
``THREADS`` and ``SCHEDULE`` below are picked up by ``taskkit worker``)::

    export TASKKIT_URL=sqlite:///shop.db
    taskkit migrate
    taskkit worker taskkit_core.demo.app:handler
    taskkit enqueue taskkit_core.demo.app:handler default send_email \\
        --data '{"to": "ann@example.com", "n": 1}' --wait
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from ..compat import ScheduleEntryDict
from ..kit import InitiateTaskArgs
from ..scheduler import RegularSchedule
from ..task import Task

THREADS = {"default": 8, "reports": 2}
"""Worker threads per group in each worker process."""

SCHEDULE: dict[str, list[ScheduleEntryDict]] = {
    "shop": [
        {
            "key": "daily-sales-report",
            "schedule": RegularSchedule(seconds=0, minutes=0, hours=6),
            "group": "reports",
            "name": "render_report",
            "data": {"report": "daily sales", "pages": 3},
        }
    ]
}
"""Schedule entries ``taskkit worker`` runs: a sales report every day at 06:00."""

MAX_RETRIES = 3


class TemporaryFailure(Exception):
    """A service we depend on failed in a way that may work next time."""


def _work(n: int, low: float, high: float) -> float:
    """Pretend to work for a while (the same while for the same task)."""
    seconds = random.Random(n).uniform(low, high)
    time.sleep(seconds)
    return seconds


def resize_image(task: Task, data: dict[str, Any]) -> Any:
    """Fast: make a thumbnail."""
    _work(data["n"], 0.005, 0.02)
    return {"thumbnail": f"{data['image'].rsplit('.', 1)[0]}-200px.jpg"}


def send_email(task: Task, data: dict[str, Any]) -> Any:
    """Fast, but some mails (n divisible by 4) find the server busy on their first try."""
    _work(data["n"], 0.005, 0.03)
    if data["n"] % 4 == 0 and task.retry_count == 0:
        raise TemporaryFailure("451 mail server busy, try again later")
    return {"sent_to": data["to"]}


def charge_card(task: Task, data: dict[str, Any]) -> Any:
    """Slower; the gateway times out twice on some orders (those divisible by 7)."""
    _work(data["n"], 0.05, 0.15)
    if data["n"] % 7 == 0 and task.retry_count < 2:
        raise TemporaryFailure("payment gateway timed out")
    return {"order": data["order"], "charged_cents": data["cents"]}


def import_feed(task: Task, data: dict[str, Any]) -> Any:
    """Reads a supplier's feed; supplier 3's is corrupt and fails for good (no retry helps)."""
    _work(data["n"], 0.02, 0.06)
    if data["feed"] == "supplier-3.xml":
        raise ValueError(f"feed {data['feed']} is corrupt: unexpected end of data")
    return {"feed": data["feed"], "products": 40 + data["n"] % 17}


def render_report(task: Task, data: dict[str, Any]) -> Any:
    """Slow: a tenth of a second per page."""
    time.sleep(0.1 * data["pages"])
    return {"report": data["report"], "pages": data["pages"]}


KINDS: dict[str, Callable[[Task, dict[str, Any]], Any]] = {
    "resize_image": resize_image,
    "send_email": send_email,
    "charge_card": charge_card,
    "import_feed": import_feed,
    "render_report": render_report,
}


class ShopHandler:
    """The TaskHandler: JSON data and results, a function per task name."""

    def handle(self, task: Task) -> Any:
        """Run the task's kind; the result says when it was produced."""
        data = json.loads(task.data)
        value = KINDS[task.name](task, data)
        return {"value": value, "finished_at": time.time()}

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        """Retry temporary failures with exponential backoff; fail the rest at once."""
        if isinstance(exception, TemporaryFailure) and task.retry_count < MAX_RETRIES:
            return 0.2 * 2.0**task.retry_count
        return None

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        """Data as JSON; an unknown task name is refused before anything is queued."""
        if task_name not in KINDS:
            raise ValueError(f"unknown task {task_name!r}; the shop knows {', '.join(KINDS)}")
        return json.dumps(data).encode()

    def encode_result(self, task: Task, result: Any) -> bytes:
        """Results as JSON."""
        return json.dumps(result).encode()

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        """JSON back to Python values."""
        return json.loads(encoded)


handler = ShopHandler()

# The kinds of every twenty tasks, in order: mostly thumbnails, a few reports.
_MIX = ["resize_image"] * 8 + ["send_email"] * 5 + ["charge_card"] * 3
_MIX += ["import_feed"] * 2 + ["render_report"] * 2


def workload(count: int) -> list[InitiateTaskArgs]:
    """``count`` tasks in the shop's usual mix, the same ones every time."""
    return [_task(n) for n in range(count)]


def _task(n: int) -> InitiateTaskArgs:
    kind = _MIX[n % len(_MIX)]
    examples: dict[str, dict[str, Any]] = {
        "resize_image": {"image": f"product-{n}.jpg"},
        "send_email": {"to": f"customer{n}@example.com"},
        "charge_card": {"order": 1000 + n, "cents": 500 + n * 37 % 9000},
        "import_feed": {"feed": f"supplier-{n % 13}.xml"},
        "render_report": {"report": f"weekly report {n}", "pages": 2 + n % 5},
    }
    data = {**examples[kind], "n": n}
    group = "reports" if kind == "render_report" else "default"
    return {"group": group, "name": kind, "data": data}
