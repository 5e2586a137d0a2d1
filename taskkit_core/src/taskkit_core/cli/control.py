"""``taskkit pause | resume | shutdown [GROUP ...]``: send a control event to the workers."""

from __future__ import annotations

import click

from ..events import make_event
from ..task import check_name
from ..worker.roster import LiveWorkers, live_workers
from .connection import app_option, load_optional_app, opened, warn_if_private
from .options import namespace_option, taskkit_command, url_option
from .output import warning_line

WHAT = {
    "pause": "Ask the workers of GROUPs (default: all) to take no new tasks until resumed.",
    "resume": "Let paused workers of GROUPs (default: all) take tasks again.",
    "shutdown": "Ask the workers of GROUPs (default: all) to finish running tasks and stop.",
}


def _control_command(name: str) -> click.Command:
    @click.command(name, help=f"{WHAT[name]}\n\nWorkers see the event within about a second.")
    @click.argument("groups", nargs=-1, metavar="[GROUP]...")
    @url_option
    @namespace_option
    @app_option
    @taskkit_command
    def command(
        groups: tuple[str, ...], url: str | None, namespace: str | None, app_spec: str | None
    ) -> int:
        app = load_optional_app(app_spec)
        for group in groups:
            if app is not None:
                app.check_group(group)
            check_name("group", group)
        event = make_event(name, list(groups) if groups else None)
        with opened(url, namespace, app) as connection:
            warn_if_private(connection, "no worker can receive the event")
            connection.bridge.send_event(event)
            if connection.backend.capabilities.multi_process:
                warn_if_unserved(live_workers(connection.backend), groups)
        target = "groups " + ", ".join(sorted(groups)) if groups else "all groups"
        click.echo(f"sent {name} to {target}")
        return 0

    return command


def warn_if_unserved(live: LiveWorkers, groups: tuple[str, ...]) -> None:
    """Warn about named groups no live worker serves (a typo, or workers not started yet).

    Control events reach the workers running when they are sent, not those
    started later, so such an event changes nothing.
    """
    if not groups and not live.cards and not live.unknown:
        warning_line("no live worker: the event reaches only workers running now")
    for group in groups:
        if live.serving(group) is False:
            warning_line(
                f"no live worker serves group {group!r}: the event reaches only workers "
                "running now (see `taskkit status`)"
            )


def control_commands() -> list[click.Command]:
    """The pause, resume and shutdown commands."""
    return [_control_command(name) for name in WHAT]
