"""``taskkit worker APP``: run the app's worker processes (or threads) until stopped."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import click

from ..compat import encode_schedule_entries
from ..kit import Kit
from ..url import mask_url
from ..worker.plan import RuntimeConfig, WorkerPlan
from ..worker.stop_signals import Stopped
from .app import App, load_app, load_schedule, with_metrics, with_shutdown_timeout
from .options import (
    backend_options,
    log_format_option,
    namespace_option,
    option,
    taskkit_command,
    url_option,
)
from .worker_threads import ThreadsWorker

logger = logging.getLogger("taskkit.cli")


def parse_threads(values: Sequence[str]) -> dict[str, int]:
    """``["default=4", "emails=2"]`` as ``{"default": 4, "emails": 2}``."""
    threads: dict[str, int] = {}
    for value in values:
        group, sep, count = value.rpartition("=")
        if not sep or not group or not count.strip().isdigit():
            raise click.BadParameter(
                f"expected GROUP=N (e.g. default=4), got {value!r}", param_hint="--threads"
            )
        threads[group] = int(count)
    return threads


def _threads_for(app: App, given: Sequence[str]) -> dict[str, int]:
    threads = parse_threads(given) if given else app.threads
    if not threads:
        raise click.UsageError(
            f"no worker threads: pass --threads GROUP=N (e.g. --threads default=4) "
            f"or define THREADS = {{'default': 4}} next to {app.spec}"
        )
    return threads


@click.command("worker")
@click.argument("app_spec", metavar="APP", envvar="TASKKIT_APP")
@url_option
@namespace_option
@option(
    "--processes",
    "-p",
    env=("TASKKIT_WORKER_PROCESSES", "TASKKIT_PROCESSES"),
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes, each with all the threads. 0 runs the threads in this "
    "process, the mode used anyway on a backend private to one process (memory://).",
)
@option(
    "--threads",
    "-t",
    env=("TASKKIT_WORKER_THREADS", "TASKKIT_THREADS"),
    multiple=True,
    metavar="GROUP=N",
    help="Worker threads per group, repeatable (the variable: space-separated). "
    "Default: THREADS of the app's module.",
)
@option(
    "--polling-interval",
    env=("TASKKIT_WORKER_POLLING_INTERVAL", "TASKKIT_POLLING_INTERVAL"),
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="How often an idle group asks for due tasks. Default: 1 to 4 s, growing with its threads.",
)
@option(
    "--helper-services/--no-helper-services",
    env=("TASKKIT_WORKER_HELPER_SERVICES", "TASKKIT_HELPER_SERVICES"),
    default=True,
    show_default=True,
    help="Run the services that restore tasks of dead workers, forget dead workers "
    "and delete expired results. Turn off where other workers run them.",
)
@option(
    "--shutdown-timeout",
    env=("TASKKIT_WORKER_SHUTDOWN_TIMEOUT", "TASKKIT_SHUTDOWN_TIMEOUT"),
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="How long running tasks may finish after SIGTERM or Ctrl-C. Default: the "
    "Kit's settings (30 s).",
)
@option(
    "--schedule",
    env=("TASKKIT_WORKER_SCHEDULE", "TASKKIT_SCHEDULE"),
    metavar="MODULE:ATTR",
    help="Schedule entries to run (a list, or a dict of named lists). Default: "
    "SCHEDULE of the app's module, if any.",
)
@option(
    "--metrics-port",
    env="TASKKIT_WORKER_METRICS_PORT",
    type=click.IntRange(min=0, max=65535),
    metavar="PORT",
    help="Serve Prometheus metrics of every worker process of this command on PORT "
    "(needs taskkit[prometheus]). Default: off.",
)
@option(
    "--metrics-address",
    env="TASKKIT_WORKER_METRICS_ADDRESS",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESS",
    help="The address --metrics-port listens on; 0.0.0.0 lets other hosts scrape it.",
)
@option(
    "--start-method",
    env=("TASKKIT_WORKER_START_METHOD", "TASKKIT_START_METHOD"),
    type=click.Choice(["fork", "forkserver", "spawn"]),
    help="How worker processes start. Default: spawn (a child inherits no thread or lock).",
)
@log_format_option
@taskkit_command
def worker_command(
    app_spec: str,
    url: str | None,
    namespace: str | None,
    processes: int,
    threads: tuple[str, ...],
    polling_interval: float | None,
    helper_services: bool,
    shutdown_timeout: float | None,
    schedule: str | None,
    metrics_port: int | None,
    metrics_address: str,
    start_method: str | None,
) -> int:
    """Run the workers of APP until SIGTERM, Ctrl-C or `taskkit shutdown`.

    APP (or TASKKIT_APP) is module:attribute naming a Kit, or a TaskHandler
    together with --url. Next to it the module may define THREADS (worker
    threads per group, e.g. {"default": 4}) and SCHEDULE (schedule entries to
    run: a list, or a dict of named lists).

    A process that dies is restarted. The first SIGTERM or Ctrl-C stops taking
    tasks and lets running ones finish within the shutdown timeout, then exits
    0; a second one, however soon, puts running tasks back in the queue and
    exits at once with 130 (Ctrl-C) or 143 (SIGTERM).
    """
    app = load_app(app_spec)
    settings = with_metrics(
        with_shutdown_timeout(app.settings(), shutdown_timeout), metrics_port, metrics_address
    )
    schedule_entries = load_schedule(schedule) if schedule else app.schedule
    plan = WorkerPlan(
        RuntimeConfig.build(
            _threads_for(app, threads),
            polling_interval=polling_interval,
            schedule_entries=encode_schedule_entries(app.handler, schedule_entries),
            settings=settings,
        ),
        processes=processes,
        helper_services=helper_services,
        start_method=start_method,
    )
    kit = app.open_kit(url, backend_options(namespace), settings)
    try:
        if processes == 0 or not kit.backend.capabilities.multi_process:
            stopped = _run_threads(kit, plan)
        else:
            stopped = _run_processes(kit, plan)
    finally:
        kit.close()
    return stopped.exit_code


def _run_threads(kit: Kit, plan: WorkerPlan) -> Stopped:
    where = mask_url(kit.backend.url)
    if plan.processes > 1:
        logger.warning("%s is private to one process: running the threads in this process", where)
    logger.info("taskkit worker on %s: %s", where, plan.describe("worker threads in this process"))
    worker = ThreadsWorker(plan.runtime.settings.shutdown_timeout)
    return worker.run(lambda: kit.launch_threads(plan))


def _run_processes(kit: Kit, plan: WorkerPlan) -> Stopped:
    mode = f"{plan.processes} worker process(es)"
    logger.info("taskkit worker on %s: %s", mask_url(kit.backend.url), plan.describe(mode))
    return kit.supervise(plan)  # once the processes drained, or a second signal stopped them
