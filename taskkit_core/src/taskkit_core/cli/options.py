"""The options several commands share, each with its environment-variable twin.

Backend URLs are best given through the environment (TASKKIT_URL, or
TASKKIT_URL_FILE naming a file that holds the URL): command-line arguments
are visible to every user of the machine in ``ps``.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from .output import configure_logging, remember_url

F = TypeVar("F", bound=Callable[..., Any])

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

URL_HELP = (
    "Backend URL, e.g. sqlite:///tasks.db or postgresql://user@host/db. Prefer the "
    "environment (TASKKIT_URL, or TASKKIT_URL_FILE naming a file that holds the URL): "
    "command-line arguments, and so a password in them, are visible in `ps`."
)


@dataclass
class State:
    """Settings of the whole invocation, shared by the group and its commands."""

    debug: bool = False
    log_level: str = "INFO"
    log_level_given: bool = False
    log_format: str = "text"


def state() -> State:
    """The State of the running invocation."""
    return click.get_current_context().ensure_object(State)


def option(*decls: str, env: str | tuple[str, ...], **kwargs: Any) -> Callable[[F], F]:
    """A click option whose environment variable(s) ``env`` are shown in --help.

    Variables are scoped per command: an option of one command only reads
    ``TASKKIT_<COMMAND>_<OPTION>`` (a worker's TASKKIT_WORKER_PROCESSES never
    reaches ``taskkit demo``); only settings that mean the same to every
    command (TASKKIT_URL, TASKKIT_URL_FILE, TASKKIT_NAMESPACE, TASKKIT_APP,
    TASKKIT_LOG_LEVEL, TASKKIT_DEBUG) are shared. A second name in ``env`` is
    taskkit 0.3's unscoped one, still read by the one command that owned it.
    """
    return click.option(
        *decls, envvar=list(env) if isinstance(env, tuple) else env, show_envvar=True, **kwargs
    )


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).debug = True


def _set_log_level(ctx: click.Context, param: click.Parameter, value: str) -> None:
    source = ctx.get_parameter_source(param.name or "")
    if source is not None and source.name != "DEFAULT":
        current = ctx.ensure_object(State)
        current.log_level, current.log_level_given = value.upper(), True


def common_options(func: F) -> F:
    """--debug and --log-level, accepted before or after the command name."""
    func = option(
        "--log-level",
        env="TASKKIT_LOG_LEVEL",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default="INFO",
        show_default=True,
        expose_value=False,
        is_eager=True,
        callback=_set_log_level,
        help="Lowest level of log lines written to stderr (worker processes inherit it).",
    )(func)
    return option(
        "--debug",
        env="TASKKIT_DEBUG",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show the traceback of an error, not just its one line.",
    )(func)


def taskkit_command(func: F) -> F:
    """Add the common options and set up logging before the command runs."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = state()
        configure_logging(current.log_level, log_formatter(current.log_format))
        return func(*args, **kwargs)

    return common_options(cast(F, wrapper))


def log_formatter(log_format: str) -> logging.Formatter | None:
    """The formatter of ``--log-format`` (None: the default text lines)."""
    if log_format == "json":
        from .json_log import JsonLogFormatter

        return JsonLogFormatter()
    return None


def _set_log_format(ctx: click.Context, param: click.Parameter, value: str) -> None:
    ctx.ensure_object(State).log_format = value.lower()


def log_format_option(func: F) -> F:
    """--log-format text|json: how log records are written (worker processes inherit it)."""
    return option(
        "--log-format",
        env="TASKKIT_WORKER_LOG_FORMAT",
        type=click.Choice(["text", "json"], case_sensitive=False),
        default="text",
        show_default=True,
        expose_value=False,
        is_eager=True,
        callback=_set_log_format,
        help="Log lines as text, or one JSON object per line for log shippers.",
    )(func)


def _url_from_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read TASKKIT_URL_FILE {path!r}: {exc.strerror}", param_hint="--url"
        ) from None


def _take_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None and os.environ.get("TASKKIT_URL_FILE"):
        value = _url_from_file(os.environ["TASKKIT_URL_FILE"])
    if value is not None:
        remember_url(value)
    return value


def url_option(func: F) -> F:
    """--url (TASKKIT_URL); its password is masked in every output of the command."""
    return option("--url", env="TASKKIT_URL", metavar="URL", callback=_take_url, help=URL_HELP)(
        func
    )


def need_url(url: str | None) -> str:
    """``url``, or a usage error saying how to give one."""
    if not url:
        raise click.UsageError(
            "no backend URL: set TASKKIT_URL (or TASKKIT_URL_FILE) or pass --url"
        )
    return url


def namespace_option(func: F) -> F:
    """--namespace (TASKKIT_NAMESPACE): the table or key prefix of the backend."""
    return option(
        "--namespace",
        env="TASKKIT_NAMESPACE",
        metavar="NAME",
        help="Keep apart from other applications on the same server (table or key "
        "prefix; letters, digits, underscores). Default: the backend's.",
    )(func)


def backend_options(namespace: str | None) -> dict[str, Any]:
    """The options to open a backend with: only those the user gave."""
    return {} if namespace is None else {"namespace": namespace}
