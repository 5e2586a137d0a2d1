"""Output that changes while the command runs: a progress bar, a spinner, a refreshed view.

With rich on a terminal these redraw in place; otherwise (rich not
installed, or output to a pipe or file) they print plain lines: a
progress line at most once a second, a note, a new view each refresh.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .render import Cell, TextTable, fancy, markup, note, rich_table, show

Parts = Callable[[], Sequence[TextTable | Cell]]
PLAIN_PROGRESS_EVERY = 1.0
MIN_RATE_WINDOW = 0.2  # seconds: a rate over a shorter time is noise


@contextmanager
def progress(total: int, what: str = "tasks") -> Iterator[Callable[[int], None]]:
    """Yield ``update(done)`` for a bar of ``total`` on stderr, with the rate per second."""
    if fancy(sys.stderr):
        with _rich_progress(total, what) as rich_update:
            yield rich_update
        return
    started, last = time.monotonic(), [0.0]

    def update(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PLAIN_PROGRESS_EVERY or done >= total:
            last[0] = now
            note(_progress_line(done, total, now - started, what))

    yield update


def _progress_line(done: int, total: int, elapsed: float, what: str) -> str:
    rate = done / elapsed if elapsed >= MIN_RATE_WINDOW else 0.0
    return f"running: {done}/{total} {what}, {rate:.1f} {what}/s, {elapsed:.1f} s"


@contextmanager
def _rich_progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    rate = TextColumn(
        "{task.fields[rate]:6.1f} " + what + "/s", style="progress.data.speed", markup=False
    )
    columns = (SpinnerColumn(), TextColumn("running"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True, highlight=False)
    with Progress(*columns, rate, TimeElapsedColumn(), console=console) as bar_set:
        bar = bar_set.add_task(what, total=total, rate=0.0)
        started = time.monotonic()

        def update(done: int) -> None:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed >= MIN_RATE_WINDOW else 0.0
            bar_set.update(bar, completed=done, rate=rate)

        yield update


@contextmanager
def spinner(message: str) -> Iterator[None]:
    """``message`` while the block runs: a spinner on a terminal, else one note."""
    if not fancy(sys.stderr):
        note(f"{message} ...")
        yield
        return
    from rich.console import Console

    with Console(stderr=True, highlight=False).status(message):
        yield


def watch(parts: Parts, interval: float) -> None:
    """Show ``parts()`` every ``interval`` seconds until Ctrl-C: in place, or one after another."""
    _listen_to_ctrl_c()
    try:
        if fancy(sys.stdout):
            _watch_in_place(parts, interval)
            return
        while True:
            show(*parts())
            sys.stdout.write("\n")
            time.sleep(interval)
    except KeyboardInterrupt:
        return  # Ctrl-C is how a watch ends, not a failure: the command exits 0


def _listen_to_ctrl_c() -> None:
    """Make Ctrl-C end the watch even if this process was started with SIGINT blocked or ignored.

    A process inherits both from whatever started it (a shell's background job,
    a supervisor, a worker's task thread); a watch has no other way to end.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _watch_in_place(parts: Parts, interval: float) -> None:
    from rich.console import Group
    from rich.live import Live

    def view() -> Any:
        return Group(*(rich_table(p) if isinstance(p, TextTable) else markup(p) for p in parts()))

    with Live(view(), auto_refresh=False) as live:
        while True:
            time.sleep(interval)
            live.update(view(), refresh=True)
