"""Opening the backend a command talks to: from --url, or from the app's Kit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..backend import Connection
from ..opening import connect
from ..url import mask_url
from .app import App, load_app
from .options import backend_options, need_url, option
from .output import remember_url, warning_line

F = TypeVar("F", bound=Callable[..., Any])


def app_option(func: F) -> F:
    """--app (TASKKIT_APP): where the URL comes from when --url is not given."""
    return option(
        "--app",
        "app_spec",
        env="TASKKIT_APP",
        metavar="MODULE:ATTR",
        help="The app's Kit: its backend is used when no URL is given, and its THREADS "
        "name the groups.",
    )(func)


def load_optional_app(app_spec: str | None) -> App | None:
    """The app named by --app, when one is given."""
    return load_app(app_spec) if app_spec else None


@contextmanager
def opened(url: str | None, namespace: str | None, app: App | None = None) -> Iterator[Connection]:
    """The backend and bridge of ``url`` (or of the app's Kit when no URL is given)."""
    if url is None and app is not None:
        kit = app.open_kit(None, backend_options(namespace))
        connection = Connection(kit.backend, kit.bridge)
    else:
        connection = connect(need_url(url), **backend_options(namespace))
    remember_url(connection.backend.url)
    try:
        yield connection
    finally:
        connection.close()


def warn_if_private(connection: Connection, what: str) -> None:
    """Warn when the backend lives in this process only, so ``what`` reaches no worker."""
    if not connection.backend.capabilities.multi_process:
        warning_line(f"{mask_url(connection.backend.url)} is private to this process: {what}")
