"""The ``taskkit`` command (also ``python -m taskkit_core``).

One module per command; this one builds the group and turns every failure
into one line on stderr and an exit code (see ``errors.py``). Every option
has an environment-variable twin, scoped to its command (``options.py``),
shown in the command's ``--help``; ``taskkit --help`` lists them all.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..version import VERSION
from .backends import backends_command
from .control import control_commands
from .dashboard import dashboard_command
from .demo import demo_command
from .enqueue import enqueue_command
from .envhelp import TaskkitGroup
from .errors import EXIT_INTERRUPTED, EXIT_USAGE, report
from .jobs import job_commands
from .migrate import migrate_command
from .new_backend import new_backend_command
from .options import State, common_options
from .output import error_line
from .status import status_command
from .worker import worker_command

__all__ = ["cli", "main"]


@click.group(
    "taskkit",
    cls=TaskkitGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(VERSION, "-V", "--version", prog_name="taskkit")
@common_options
def cli() -> None:
    """taskkit: run workers, put tasks in, watch and control them.

    Backend URLs are best given as TASKKIT_URL (or TASKKIT_URL_FILE) in the
    environment: command-line arguments are visible to every user in `ps`.
    Start with `taskkit demo`.
    """


for _command in (
    worker_command,
    enqueue_command,
    status_command,
    *job_commands(),
    *control_commands(),
    backends_command,
    migrate_command,
    demo_command,
    new_backend_command,
    dashboard_command,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line ``argv`` (default: sys.argv) and exit with its code."""
    state = State()
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="taskkit",
            standalone_mode=False,
            obj=state,
        )
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=True)
        code = EXIT_USAGE
    except click.Abort:
        error_line("interrupted")
        code = EXIT_INTERRUPTED
    except Exception as exc:
        code = report(exc, debug=state.debug)
    sys.exit(code if isinstance(code, int) else 0)
