"""How the command fails: one line on stderr and an exit code that says whose fault.

Exit codes follow the shell's conventions (and click's):

- 0: done (a worker that drained after SIGTERM or Ctrl-C also exits 0, and
  so does ``status --watch`` ended by Ctrl-C, its way to end);
- 1: a runtime failure: the server is unreachable, the storage is not
  migrated, a task failed or did not finish in time, a plugin is broken;
- 2: a usage or configuration error: a bad option, URL, scheme, APP path,
  group or JSON value; nothing was changed;
- 130: interrupted by Ctrl-C; a worker exits so when a second Ctrl-C
  stopped it at once;
- 143: a worker stopped at once by a second SIGTERM.

A traceback is shown only with ``--debug`` (or TASKKIT_DEBUG=1), and it is
scrubbed of passwords like every other output.
"""

from __future__ import annotations

import sys
import traceback

import click

from ..errors import (
    CapabilityError,
    ConfigurationError,
    InvalidTaskError,
    PluginError,
    TaskkitError,
)
from .output import error_line, one_line, scrub

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_USAGE_ERRORS = (ConfigurationError, InvalidTaskError, CapabilityError, PluginError)


class CommandError(TaskkitError):
    """A runtime failure the command reports as one line (exit code 1)."""


def exit_code_of(exc: BaseException) -> int:
    """The exit code for an exception that ended a command."""
    if isinstance(exc, click.ClickException):
        return exc.exit_code
    if isinstance(exc, _USAGE_ERRORS):
        return EXIT_USAGE
    return EXIT_RUNTIME


def message_of(exc: BaseException) -> str:
    """What the one error line says about ``exc``."""
    if isinstance(exc, click.UsageError):
        return _usage_message(exc)
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, TaskkitError):
        return str(exc) or type(exc).__name__
    text = one_line(str(exc))
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"{detail} (run with --debug for the traceback)"


def _usage_message(exc: click.UsageError) -> str:
    message = exc.format_message()
    if exc.ctx is not None:
        message += f" (see '{exc.ctx.command_path} --help')"
    return message


def report(exc: BaseException, *, debug: bool) -> int:
    """Print the error (and with ``debug`` its traceback) and return its exit code."""
    if debug and not isinstance(exc, click.ClickException):
        text = "".join(traceback.format_exception(exc))
        sys.stderr.write(scrub(text))
    error_line(message_of(exc))
    return exit_code_of(exc)
