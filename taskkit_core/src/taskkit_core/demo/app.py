"""A small shop's background jobs: the example app ``taskkit demo`` runs.

Five task functions in two groups:

- ``resize_image`` (fast), ``send_email`` (fast; the mail server is
  sometimes busy, so some fail once and are retried), ``charge_card``
  (slower; the payment gateway times out now and then, retried with
  backoff) and ``import_feed`` (a corrupt feed fails for good: a ValueError
  is not worth a retry) in the group ``default``;
- ``render_report`` (slow, a tenth of a second per page) in ``reports``,
  also run every day at 06:00 as the periodic ``daily_sales_report``.

Every result is a dataclass that says when it was produced
(``finished_at``), which is how the demo measures latency.

Run it with a real worker, like any app (``TASKKIT_URL`` names the backend;
the app's threads and periodic task are picked up by ``taskkit worker``)::

    export TASKKIT_URL=sqlite:///shop.db
    taskkit migrate --app taskkit_core.demo.app:app
    taskkit worker taskkit_core.demo.app:app
    taskkit enqueue taskkit_core.demo.app:app default send_email \\
        --data '{"to": "ann@example.com", "n": 1}' --wait
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from ..app import App, Call, Retry, current_task

THREADS = {"default": 8, "reports": 2}
"""Worker threads per group in each worker process."""

app = App(name="shop", threads=THREADS)


class TemporaryFailure(Exception):
    """A service we depend on failed in a way that may work next time."""


TEMPORARY = Retry(max_attempts=4, base=0.2, factor=2.0, on=(TemporaryFailure,))
"""Retry temporary failures up to three times with jittered backoff; fail the rest at once."""


@dataclass(frozen=True, kw_only=True)
class Finished:
    """What every task returns: when it finished (seconds since the epoch)."""

    finished_at: float = field(default_factory=time.time)


@dataclass(frozen=True, kw_only=True)
class Thumbnail(Finished):
    path: str


@dataclass(frozen=True, kw_only=True)
class Sent(Finished):
    to: str


@dataclass(frozen=True, kw_only=True)
class Charge(Finished):
    order: int
    cents: int


@dataclass(frozen=True, kw_only=True)
class Feed(Finished):
    feed: str
    products: int


@dataclass(frozen=True, kw_only=True)
class Report(Finished):
    title: str
    pages: int


def _work(n: int, low: float, high: float) -> float:
    """Pretend to work for a while (the same while for the same task)."""
    seconds = random.Random(n).uniform(low, high)
    time.sleep(seconds)
    return seconds


@app.task(name="resize_image")
def resize_image(image: str, n: int) -> Thumbnail:
    """Fast: make a thumbnail."""
    _work(n, 0.005, 0.02)
    return Thumbnail(path=f"{image.rsplit('.', 1)[0]}-200px.jpg")


@app.task(name="send_email", retry=TEMPORARY)
def send_email(to: str, n: int) -> Sent:
    """Fast, but some mails (n divisible by 4) find the server busy on their first try."""
    _work(n, 0.005, 0.03)
    if n % 4 == 0 and current_task().retry_count == 0:
        raise TemporaryFailure("451 mail server busy, try again later")
    return Sent(to=to)


@app.task(name="charge_card", retry=TEMPORARY)
def charge_card(order: int, cents: int, n: int) -> Charge:
    """Slower; the gateway times out twice on some orders (those divisible by 7)."""
    _work(n, 0.05, 0.15)
    if n % 7 == 0 and current_task().retry_count < 2:
        raise TemporaryFailure("payment gateway timed out")
    return Charge(order=order, cents=cents)


@app.task(name="import_feed", retry=TEMPORARY)
def import_feed(feed: str, n: int) -> Feed:
    """Reads a supplier's feed; supplier 3's is corrupt and fails for good (no retry helps)."""
    _work(n, 0.02, 0.06)
    if feed == "supplier-3.xml":
        raise ValueError(f"feed {feed} is corrupt: unexpected end of data")
    return Feed(feed=feed, products=40 + n % 17)


@app.task(name="render_report", group="reports")
def render_report(report: str, pages: int, n: int = 0) -> Report:
    """Slow: a tenth of a second per page."""
    time.sleep(0.1 * pages)
    return Report(title=report, pages=pages)


@app.periodic(cron="0 6 * * *", name="daily_sales_report", group="reports")
def daily_sales_report() -> Report:
    """Every day at 06:00 (the worker's time zone): yesterday's sales."""
    return render_report("daily sales", 3)


KINDS = ["resize_image", "send_email", "charge_card", "import_feed", "render_report"]
"""The task names of the workload."""

# The kinds of every twenty tasks, in order: mostly thumbnails, a few reports.
_MIX = ["resize_image"] * 8 + ["send_email"] * 5 + ["charge_card"] * 3
_MIX += ["import_feed"] * 2 + ["render_report"] * 2


def workload(count: int) -> list[Call[Any]]:
    """``count`` calls in the shop's usual mix, the same ones every time."""
    return [_call(n) for n in range(count)]


def _call(n: int) -> Call[Any]:
    match _MIX[n % len(_MIX)]:
        case "resize_image":
            return resize_image.call(f"product-{n}.jpg", n)
        case "send_email":
            return send_email.call(f"customer{n}@example.com", n)
        case "charge_card":
            return charge_card.call(1000 + n, 500 + n * 37 % 9000, n)
        case "import_feed":
            return import_feed.call(f"supplier-{n % 13}.xml", n)
    return render_report.call(f"weekly report {n}", 2 + n % 5, n)
