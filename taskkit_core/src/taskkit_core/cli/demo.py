"""``taskkit demo``: run the shop example app end to end and show what happened.

It migrates the backend (by default a SQLite file ``taskkit-demo.db`` in
the working directory, or memory:// when taskkit-sql is not installed),
clears the demo's namespace, starts workers (processes where the backend
allows, threads otherwise), puts in ``--tasks`` tasks, shows its progress
with tasks/s, and ends with a summary table.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..app import App
from ..backend import Backend
from ..demo.app import THREADS, app, workload
from ..errors import UnknownBackendError
from ..opening import lookup_backend, migrate
from ..settings import WorkerSettings
from ..url import mask_url
from .demo_report import collect, summary_table
from .errors import CommandError
from .live import progress, spinner
from .options import namespace_option, option, state, taskkit_command, url_option
from .output import remember_url
from .render import note, show

DEMO_NAMESPACE = "taskkit_demo"
DEMO_FILE = "taskkit-demo.db"
POLL = 0.1
STARTUP_LIMIT = 60.0
DEMO_SETTINGS = WorkerSettings(shutdown_timeout=5.0, event_wait=0.2)


def default_url() -> str:
    """A SQLite file in the working directory, or memory:// without taskkit-sql."""
    url = f"sqlite:///{Path.cwd() / DEMO_FILE}"
    try:
        lookup_backend(url)
    except UnknownBackendError:
        note(
            'taskkit-sql is not installed (pip install "taskkit[sqlite]"): '
            "running the demo on memory://"
        )
        return "memory://"
    return url


@click.command("demo")
@url_option
@namespace_option
@option(
    "--tasks",
    "-n",
    env="TASKKIT_DEMO_TASKS",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="How many tasks to run.",
)
@option(
    "--processes",
    "-p",
    env="TASKKIT_DEMO_PROCESSES",  # never a worker's TASKKIT_WORKER_PROCESSES
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes, where the backend allows them.",
)
@taskkit_command
def demo_command(url: str | None, namespace: str | None, tasks: int, processes: int) -> int:
    """Run an example app (a shop's background jobs) and show what taskkit does.

    Uses --url if given, else a SQLite file ./taskkit-demo.db (memory:// when
    taskkit-sql is not installed). The demo's tasks live in their own namespace
    (default taskkit_demo), which it clears first. Its failing and retried
    tasks are counted in the summary; --log-level WARNING logs each failure
    with its traceback as it happens.
    """
    if not state().log_level_given:
        # Keep worker lines off the bar: the demo fails and retries tasks on purpose.
        logging.getLogger().setLevel(logging.CRITICAL)
    url = url or default_url()
    remember_url(url)
    namespace = namespace or DEMO_NAMESPACE
    migrate(url, namespace=namespace)
    app.configure(url, settings=DEMO_SETTINGS, namespace=namespace)
    backend = app.kit.backend
    try:
        backend.destroy_all()
        where = _describe(backend, processes)
        note(f"taskkit demo: {tasks} tasks on {mask_url(url)} ({where})")
        with _workers(app, processes):
            started = time.monotonic()
            task_ids = [r.task_id for r in app.delay_many(workload(tasks))]
            _show_progress(backend, tasks, time.time() - 1)
            wall = time.monotonic() - started
        kinds = collect(backend, app.handler, task_ids)
    finally:
        app.close()
    show(summary_table(kinds, wall, where))
    if backend.capabilities.multi_process:
        click.echo(next_steps(url, namespace))
    return 0


def next_steps(url: str, namespace: str) -> str:
    """How to run the same app with a real worker, against the demo's backend.

    The commands are spelled as the shell that started the demo can run
    them: ``./dev demo`` sets TASKKIT_COMMAND to ``./dev taskkit``, since
    ``taskkit`` is on the PATH only inside the environment ``./dev`` made.
    """
    command = os.environ.get("TASKKIT_COMMAND") or "taskkit"
    target = "taskkit_core.demo.app:app"
    data = '{"to": "ann@example.com", "n": 1}'
    return (
        "\nNext, the same app with a worker of its own (in two terminals):\n"
        f"  export TASKKIT_URL={mask_url(url)} TASKKIT_NAMESPACE={namespace}\n"
        f"  {command} worker {target}\n"
        f"  {command} enqueue {target} default send_email --data '{data}' --wait\n"
        f"  {command} status"
    )


def _describe(backend: Backend, processes: int) -> str:
    threads = " + ".join(f"{n} {g}" for g, n in THREADS.items())
    if backend.capabilities.multi_process:
        return f"{processes} worker processes x ({threads}) threads"
    return f"worker threads in this process: {threads}"


@contextmanager
def _workers(app: App, processes: int) -> Iterator[None]:
    """Worker processes (or threads) for the duration of the block, drained after."""
    backend = app.kit.backend
    if not backend.capabilities.multi_process:
        with app.start_threads(polling_interval=POLL):
            yield
        return
    started = app.start_processes(processes, polling_interval=POLL)
    try:
        _wait_for_workers(backend, processes)
        yield
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.join(DEMO_SETTINGS.shutdown_timeout + 5)


def _wait_for_workers(backend: Backend, count: int) -> None:
    """Wait until the worker processes hold their leases, so latency excludes start-up."""
    deadline = time.monotonic() + STARTUP_LIMIT
    with spinner(f"starting {count} worker processes"):
        while len(backend.get_leases()) < count:
            if time.monotonic() > deadline:
                raise CommandError(f"the worker processes did not start in {STARTUP_LIMIT:.0f} s")
            time.sleep(POLL)


def _finished(backend: Backend, since: float) -> int:
    return sum(s.done + s.failed for s in backend.group_stats(since=since))


def _show_progress(backend: Backend, total: int, since: float) -> None:
    """A live bar until every task has finished (or the time limit passes)."""
    deadline = time.monotonic() + max(60.0, total * 0.5)
    with progress(total) as update:
        while (done := _finished(backend, since)) < total:
            update(done)
            if time.monotonic() > deadline:
                raise CommandError(f"only {done} of {total} demo tasks finished in time")
            time.sleep(POLL)
        update(total)
