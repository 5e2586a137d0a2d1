"""``taskkit backends``: the usable URL schemes, what to install for the others, broken plugins."""

from __future__ import annotations

from itertools import groupby

import click

from ..plugins import PluginFailure, plugin_failures
from ..registry import BackendEntry
from ..usable import MissingBackend, split_backends
from .options import option, taskkit_command
from .output import print_json
from .render import Cell, TextTable, show


def backends_table(backends: list[BackendEntry]) -> TextTable:
    """One row per usable URL scheme."""
    columns = ("scheme", "distribution", "version", "capabilities", "description")
    table = TextTable("Installed backends", columns)
    for b in backends:
        capabilities = ", ".join(b.capabilities.names()) or "-"
        table.add_row(f"{b.scheme}://", b.distribution, b.version, capabilities, b.description)
    return table


def missing_table(missing: list[MissingBackend]) -> TextTable:
    """One row per install command, with the schemes it would make usable."""
    table = TextTable("Not usable here", ("schemes", "why", "to use them"))
    for (reason, install), group in groupby(missing, key=lambda m: (m.reason, m.install)):
        schemes = ", ".join(f"{m.scheme}://" for m in group)
        table.add_row(schemes, reason, install or "a Python built with this driver")
    return table


def failures_table(failures: list[PluginFailure]) -> TextTable:
    """One row per plugin that could not be loaded."""
    columns = ("distribution", "entry point", "error")
    table = TextTable("Plugins that failed to load", columns, title_style="red")
    for f in failures:
        table.add_row(f.distribution, f.entry_point, f.error)
    return table


def as_json(backends: list[BackendEntry], missing: list[MissingBackend]) -> dict[str, object]:
    """The document of ``--json``: usable backends, missing ones, failed plugins."""
    return {
        "backends": [
            {
                "scheme": b.scheme,
                "distribution": b.distribution,
                "version": b.version,
                "capabilities": b.capabilities.names(),
                "description": b.description,
                "drivers": sorted(b.drivers),
            }
            for b in backends
        ],
        "missing": [{**vars(m), "reason": m.reason} for m in missing],
        "failures": [vars(f) for f in plugin_failures()],
    }


@click.command("backends")
@option(
    "--json",
    "as_json_flag",
    env="TASKKIT_BACKENDS_JSON",
    is_flag=True,
    help="Print one JSON document instead of tables.",
)
@taskkit_command
def backends_command(as_json_flag: bool) -> int:
    """List the usable backends, and the pip install line of each missing one.

    A scheme is usable when its plugin is installed and its driver module
    can be found. Plugins that failed to load are listed with their
    distribution and error, and make the command exit 1.
    """
    backends, missing = split_backends()
    failures = plugin_failures()
    if as_json_flag:
        print_json(as_json(backends, missing))
        return 1 if failures else 0
    parts: list[TextTable | Cell] = [backends_table(backends)]
    if missing:
        parts.append(missing_table(sorted(missing, key=lambda m: (m.install, m.reason, m.scheme))))
    if failures:
        parts.append(failures_table(failures))
    show(*parts)
    return 1 if failures else 0
