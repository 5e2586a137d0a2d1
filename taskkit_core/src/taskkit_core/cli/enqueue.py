"""``taskkit enqueue APP GROUP NAME``: put one task in and print its id (or its result)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from ..clock import cur_ts
from ..errors import Failed
from ..kit import Kit
from ..task import DEFAULT_TASK_TTL, Unique, check_headers, check_priority, check_timeout
from ..url import mask_url
from .app import load_app
from .errors import CommandError
from .options import backend_options, namespace_option, option, taskkit_command, url_option
from .output import print_json, warning_line


def parse_data(text: str) -> Any:
    """The --data value as JSON."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc})", param_hint="--data") from None


def parse_due(text: str) -> float:
    """--due as a timestamp: ``+SECONDS`` from now, or an ISO 8601 time (naive is local)."""
    if text.startswith("+"):
        try:
            seconds = float(text[1:])
        except ValueError:
            seconds = float("nan")
        if seconds >= 0:
            return cur_ts() + seconds
    else:
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            pass
    raise click.BadParameter(
        f"expected +SECONDS or an ISO 8601 time such as 2030-01-31T08:00:00+00:00, got {text!r}",
        param_hint="--due",
    )


def split_arguments(arguments: Sequence[str]) -> tuple[str, str, str]:
    """APP GROUP NAME, or GROUP NAME with APP from TASKKIT_APP."""
    if len(arguments) == 3:
        return arguments[0], arguments[1], arguments[2]
    app = os.environ.get("TASKKIT_APP")
    if len(arguments) == 2 and app:
        return app, arguments[0], arguments[1]
    raise click.UsageError(
        f"expected APP GROUP NAME (or GROUP NAME with TASKKIT_APP set), got {len(arguments)} "
        "argument(s)"
    )


def parse_headers(pairs: Sequence[str]) -> dict[str, str]:
    """--header K=V values as a dict (a repeated key keeps its last value)."""
    headers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--header")
        headers[key] = value
    return headers


def parse_unique(key: str | None, period: float | None, states: str | None) -> Unique | None:
    """--unique-key with its --unique-for and --unique-states, or None without a key."""
    if key is None:
        if period is not None or states is not None:
            raise click.UsageError("--unique-for and --unique-states need --unique-key")
        return None
    return Unique(key, period, "active" if states == "active" else "queued")


def job_options(func: Any) -> Any:
    """The job-control options of enqueue: priority, unique key, task timeout, headers."""
    for decorator in reversed(
        [
            option(
                "--priority",
                env="TASKKIT_ENQUEUE_PRIORITY",
                type=int,
                default=0,
                show_default=True,
                help="-100 to 100; higher runs first (needs a backend with priorities).",
            ),
            option(
                "--unique-key",
                env="TASKKIT_ENQUEUE_UNIQUE_KEY",
                metavar="KEY",
                help="Put the task only if no task of GROUP holds KEY; else print the "
                "holder's id (a note on stderr says so).",
            ),
            option(
                "--unique-for",
                env="TASKKIT_ENQUEUE_UNIQUE_FOR",
                type=float,
                metavar="SECONDS",
                help="With --unique-key: the holder blocks for SECONDS after it was "
                "enqueued. Default: no time limit.",
            ),
            option(
                "--unique-states",
                env="TASKKIT_ENQUEUE_UNIQUE_STATES",
                type=click.Choice(["queued", "active"]),
                help="With --unique-key: the holder blocks while queued (default), or while "
                "queued or running (active).",
            ),
            option(
                "--task-timeout",
                env="TASKKIT_ENQUEUE_TASK_TIMEOUT",
                type=float,
                metavar="SECONDS",
                help="Each attempt's time limit; past it the attempt fails with "
                "TaskTimeout and follows the retry policy.",
            ),
            option(
                "--header",
                "headers",
                env="TASKKIT_ENQUEUE_HEADER",
                multiple=True,
                metavar="KEY=VALUE",
                help="A header carried with the task to its handler (repeatable).",
            ),
        ]
    ):
        func = decorator(func)
    return func


@click.command("enqueue")
@click.argument("arguments", nargs=-1, metavar="APP GROUP NAME")
@url_option
@namespace_option
@option(
    "--data",
    env=("TASKKIT_ENQUEUE_DATA", "TASKKIT_DATA"),
    default="null",
    metavar="JSON",
    help="The task's data as JSON, given to the handler's encode_data.",
)
@option(
    "--due",
    env=("TASKKIT_ENQUEUE_DUE", "TASKKIT_DUE"),
    metavar="WHEN",
    help="Not before: +SECONDS from now, or an ISO 8601 time. Default: now.",
)
@option(
    "--ttl",
    env=("TASKKIT_ENQUEUE_TTL", "TASKKIT_TTL"),
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TASK_TTL,
    show_default=True,
    metavar="SECONDS",
    help="How long the finished task and its result are kept.",
)
@option(
    "--wait",
    env=("TASKKIT_ENQUEUE_WAIT", "TASKKIT_WAIT"),
    is_flag=True,
    help="Wait for the task to finish and print its result as JSON.",
)
@option(
    "--timeout",
    env=("TASKKIT_ENQUEUE_TIMEOUT", "TASKKIT_TIMEOUT"),
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --wait: give up after this long (exit 1). Default: wait for ever.",
)
@job_options
@taskkit_command
def enqueue_command(
    arguments: tuple[str, ...],
    url: str | None,
    namespace: str | None,
    data: str,
    due: str | None,
    ttl: float,
    wait: bool,
    timeout: float | None,
    priority: int,
    unique_key: str | None,
    unique_for: float | None,
    unique_states: str | None,
    task_timeout: float | None,
    headers: tuple[str, ...],
) -> int:
    """Put a task NAME into GROUP and print its id, or with --wait its result.

    APP is module:attribute naming a Kit, or a TaskHandler together with
    --url; with TASKKIT_APP set, give only GROUP NAME. The handler encodes
    --data (JSON) and, with --wait, decodes the result.

    A task that fails prints its error on one line and exits 1.
    """
    app_spec, group, name = split_arguments(arguments)
    value = parse_data(data)
    due_ts = parse_due(due) if due is not None else None
    unique = parse_unique(unique_key, unique_for, unique_states)
    header_map = parse_headers(headers)
    check_priority(priority)
    check_timeout(task_timeout)
    check_headers(header_map)
    app = load_app(app_spec)
    app.check_group(group)
    kit = app.open_kit(url, backend_options(namespace))
    try:
        _check_reachable(kit, wait)
        result = kit.initiate_task(
            group,
            name,
            value,
            due=due_ts,
            ttl=ttl,
            priority=priority,
            unique=unique,
            timeout=task_timeout,
            headers=header_map,
        )
        if result.duplicate:
            warning_line(f"a task with unique key {unique_key!r} is held: {result.task_id}")
        if not wait:
            click.echo(result.task_id)
            return 0
        try:
            print_json(result.get(timeout=timeout))
        except Failed as exc:
            raise CommandError(f"task {result.task_id} failed: {_last_line(exc.message)}") from None
        return 0
    finally:
        kit.close()


def _check_reachable(kit: Kit, wait: bool) -> None:
    """On a backend private to this process no worker sees the task: warn, or refuse --wait."""
    if kit.backend.capabilities.multi_process:
        return
    where = mask_url(kit.backend.url)
    if wait:
        raise CommandError(
            f"{where} is private to this process, so no worker can run the task; "
            "use a shared backend (sqlite, postgresql, mysql, redis) to --wait"
        )
    warning_line(f"{where} is private to this process: the task is lost when this command exits")


def _last_line(message: str) -> str:
    """The last line of a traceback: the exception, which says what went wrong."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"
