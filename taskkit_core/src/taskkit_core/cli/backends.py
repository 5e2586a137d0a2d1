"""``taskkit backends``: the installed URL schemes, and plugins that failed to load."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ..plugins import BackendInfo, PluginFailure, list_backends, plugin_failures
from .options import option, taskkit_command
from .output import print_json, stdout


def backends_table(backends: list[BackendInfo]) -> Table:
    """One row per URL scheme."""
    table = Table(title="Installed backends", title_justify="left")
    for name in ("scheme", "distribution", "version", "capabilities", "description"):
        table.add_column(name, overflow="fold")
    for b in backends:
        table.add_row(
            f"{escape(b.scheme)}://",
            escape(b.distribution),
            escape(b.version),
            ", ".join(b.capabilities) or "-",
            escape(b.description),
        )
    return table


def failures_table(failures: list[PluginFailure]) -> Table:
    """One row per plugin that could not be loaded."""
    table = Table(title="[red]Plugins that failed to load[/red]", title_justify="left")
    for name in ("distribution", "entry point", "error"):
        table.add_column(name, overflow="fold")
    for f in failures:
        table.add_row(escape(f.distribution), escape(f.entry_point), escape(f.error))
    return table


@click.command("backends")
@option(
    "--json",
    "as_json",
    env="TASKKIT_JSON",
    is_flag=True,
    help="Print one JSON document instead of tables.",
)
@taskkit_command
def backends_command(as_json: bool) -> int:
    """List the installed backends: scheme, distribution, version, capabilities.

    Plugins that failed to load are listed with their distribution and
    error, and make the command exit 1.
    """
    backends, failures = list_backends(), plugin_failures()
    if as_json:
        print_json(
            {
                "backends": [vars(b) for b in backends],
                "failures": [vars(f) for f in failures],
            }
        )
    else:
        console = stdout()
        console.print(backends_table(backends))
        if failures:
            console.print(failures_table(failures))
    return 1 if failures else 0
