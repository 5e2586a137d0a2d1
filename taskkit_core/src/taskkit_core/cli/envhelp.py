"""The list at the end of ``taskkit --help``: which environment variables each command reads."""

from __future__ import annotations

import click

URL_FILE = "TASKKIT_URL_FILE"  # read by the --url option's callback when TASKKIT_URL is unset


def _names(param: click.Parameter) -> list[str]:
    names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
    return [*names, URL_FILE] if "TASKKIT_URL" in names else names


def variables_of(command: click.Command) -> list[str]:
    """The environment variables ``command`` reads for its options and arguments."""
    return [name for param in command.params for name in _names(param)]


def _shown(command: click.Command, skip: list[str]) -> str:
    """The variables of ``command``; taskkit 0.3's unscoped names in parentheses."""
    shown = []
    for param in command.params:
        names = [name for name in _names(param) if name not in skip]
        if len(names) > 1 and isinstance(param.envvar, list | tuple):
            shown.append(f"{names[0]} (0.3: {', '.join(names[1:])})")
        elif names:
            shown.append(", ".join(names))
    return ", ".join(shown) or "-"


class TaskkitGroup(click.Group):
    """A command group whose help ends with the variables of every command."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        everywhere = variables_of(self)
        rows = [("every command", ", ".join(everywhere))]
        for name in self.list_commands(ctx):
            rows.append((name, _shown(self.commands[name], everywhere)))
        with formatter.section("Environment variables, by command (each reads only its own)"):
            formatter.write_dl(rows)
