"""``taskkit status``: the groups and workers of a backend, once or refreshed in place."""

from __future__ import annotations

import click

from .connection import app_option, load_optional_app, opened, warn_if_private
from .live import watch as watch_view
from .options import namespace_option, option, taskkit_command, url_option
from .output import print_json
from .render import show
from .status_view import render, take_snapshot


@click.command("status")
@url_option
@namespace_option
@app_option
@option(
    "--watch",
    "-w",
    env=("TASKKIT_STATUS_WATCH", "TASKKIT_WATCH"),
    is_flag=True,
    help="Refresh in place until Ctrl-C.",
)
@option(
    "--interval",
    env=("TASKKIT_STATUS_INTERVAL", "TASKKIT_INTERVAL"),
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between refreshes with --watch.",
)
@option(
    "--json",
    "as_json",
    env=("TASKKIT_STATUS_JSON", "TASKKIT_JSON"),
    is_flag=True,
    help="Print one JSON document instead of tables.",
)
@taskkit_command
def status_command(
    url: str | None,
    namespace: str | None,
    app_spec: str | None,
    watch: bool,
    interval: float,
    as_json: bool,
) -> int:
    """Show per group the queued, due, running, done and failed tasks, and the workers.

    Done and failed count the last hour; "oldest waiting" is how long the
    oldest due task has waited. A worker's last heartbeat is estimated from
    its lease (expiry minus the default worker TTL of 10 s).
    """
    app = load_optional_app(app_spec) if url is None else None  # only for its URL
    with opened(url, namespace, app) as connection:
        warn_if_private(connection, "it shows only this command's own (empty) state")
        if as_json:
            print_json(take_snapshot(connection.backend).to_json())
        elif watch:
            backend = connection.backend
            watch_view(lambda: render(take_snapshot(backend)), interval)
        else:
            show(*render(take_snapshot(connection.backend)))
    return 0
