"""Opening a backend by URL: connect, migrate and drop through the plugin that serves it.

The URL's scheme picks the registered backend (see :mod:`~taskkit_core.plugins`).
Whatever goes wrong while opening comes out as one line without the URL's
password: the backend's own TaskkitError as it is, anything else (a driver
missing, a server down, a bad option) translated by :func:`describe_open_error`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from . import plugins
from .backend import Connection
from .errors import BackendUnavailable, ConfigurationError, TaskkitError
from .registry import BackendEntry, install_hint
from .url import BackendURL, first_line, parse_url, scrub_password

T = TypeVar("T")


def lookup_backend(url: str) -> tuple[BackendURL, BackendEntry]:
    """The parsed URL and the entry serving its scheme; no connection is made."""
    parsed = parse_url(url)
    return parsed, plugins.get_plugins().lookup(parsed)


def connect(url: str, **options: Any) -> Connection:
    """Open the backend and event bridge that serve ``url``.

    ``options`` go to the backend (``namespace`` is understood by all of
    them). Errors are one line without the URL's password: unknown scheme
    (UnknownBackendError, naming the installed schemes), malformed URL
    (ConfigurationError), missing driver or unreachable server
    (BackendUnavailable), missing schema (StorageNotReady).
    """
    parsed, entry = lookup_backend(url)
    with _no_collection():
        return _translated(parsed, lambda: entry.opener(parsed.raw, options))


@contextmanager
def _no_collection() -> Iterator[None]:
    """The garbage collector paused while a backend opens.

    Opening imports the driver (and SQLAlchemy) and builds tables and
    statements: many objects, nearly all of them kept for as long as the
    backend is open, so the collections they set off find nothing to free.
    They cost a SQL backend's opening about a tenth of its time. The
    collector's state from before is restored (left off if it was off).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def migrate(url: str, *, sql_only: bool = False, **options: Any) -> str | None:
    """Create or upgrade the storage ``url`` points at; with ``sql_only``, return the DDL."""
    parsed, entry = lookup_backend(url)
    migrator = entry.migrate
    if migrator is None:
        return None
    return _translated(parsed, lambda: migrator(parsed.raw, options, sql_only))


def drop(url: str, **options: Any) -> None:
    """Remove the storage of the namespace ``url`` and ``options`` name (tables, keys)."""
    parsed, entry = lookup_backend(url)
    dropper = entry.drop
    if dropper is not None:
        _translated(parsed, lambda: dropper(parsed.raw, options))


def _translated(url: BackendURL, call: Callable[[], T]) -> T:
    """``call()``, with any error but a TaskkitError turned into a one-line TaskkitError."""
    try:
        return call()
    except TaskkitError:
        raise
    except Exception as exc:
        error = describe_open_error(url, exc)
    # Raised outside the except block so the driver's exception, which may
    # quote the URL with its password, is not chained as __context__.
    raise error


def describe_open_error(url: BackendURL, exc: BaseException) -> TaskkitError:
    """A one-line, password-free error for a failure while opening ``url``."""
    if isinstance(exc, ImportError):
        return BackendUnavailable(
            f"the driver for {url.scheme}:// is not installed ({exc.name or exc})"
            f"{install_hint(url.scheme)}"
        )
    if isinstance(exc, ValueError | TypeError):
        return ConfigurationError(f"bad backend URL or option for {url.masked()!r}")
    password_free = scrub_password(url, str(exc))
    return BackendUnavailable(
        f"cannot open {url.masked()!r}: {type(exc).__name__}: {first_line(password_free)}"
    )
