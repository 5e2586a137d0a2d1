"""From an ``acme://`` URL and keyword options to the settings of one connection.

``acme:///srv/app/tasks.db`` names an SQLite file by its absolute path, like
a ``file:`` URL. Options come from the query string
(``acme:///srv/app/tasks.db?namespace=billing&timeout=10``) and from the
keyword arguments of ``Kit.from_url`` / ``taskkit_core.connect``; a keyword
wins over the query string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from taskkit_core import ConfigurationError
from taskkit_core.names import check_namespace
from taskkit_core.url import mask_url

DEFAULT_NAMESPACE = "taskkit"
DEFAULT_TIMEOUT = 30.0
"""Seconds a write waits for another process's write to finish (SQLite's busy timeout)."""

OPTIONS = ("namespace", "timeout")


@dataclass(frozen=True)
class AcmeConfig:
    """Where the database is, which namespace (table prefix) to use, how long to wait."""

    path: str
    namespace: str
    timeout: float


def parse_config(url: str, options: Mapping[str, Any]) -> AcmeConfig:
    """The settings ``url`` and ``options`` ask for; ConfigurationError if they make no sense.

    Messages show the URL through ``mask_url``, so a password typed into
    the URL by mistake never reaches a log.
    """
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise ConfigurationError(
            f"{mask_url(url)!r} does not name a database file: "
            "write acme:/// followed by an absolute path, e.g. acme:///srv/app/tasks.db"
        )
    given = {**dict(parse_qsl(parts.query)), **options}
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise ConfigurationError(
            f"acme:// does not understand the option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(OPTIONS)}"
        )
    return AcmeConfig(
        path=unquote(parts.path),
        namespace=check_namespace(given.get("namespace", DEFAULT_NAMESPACE)),
        timeout=_seconds(given.get("timeout", DEFAULT_TIMEOUT)),
    )


def _seconds(value: object) -> float:
    """``value`` as a positive, finite number of seconds (from an option or the query string)."""
    try:
        seconds = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigurationError(f"timeout must be a positive number of seconds, got {value!r}")
    return seconds
