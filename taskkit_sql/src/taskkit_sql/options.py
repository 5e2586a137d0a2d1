"""The options a SQL backend takes, from keyword arguments or the URL's query string.

Keyword arguments win over the query string. Unknown names and bad values
are ConfigurationErrors that name the option and never the password.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from taskkit_core.errors import ConfigurationError
from taskkit_core.names import check_namespace

DEFAULT_NAMESPACE = "taskkit"


@dataclass(frozen=True)
class SqlOptions:
    """How to open a SQL backend.

    namespace: table prefix; tables are ``<namespace>_tasks`` and so on.
    pool_size, max_overflow, pool_timeout: the connection pool of each
        process (SQLAlchemy QueuePool; timeout in seconds).
    connect_timeout: seconds to wait for a new database connection.
    sqlite_synchronous: ``normal`` (default; WAL survives an application
        crash, a power loss may undo the last commits) or ``full`` (every
        commit is flushed to disk).
    sqlite_busy_timeout: seconds an SQLite writer waits for the write lock.
    direct_url: PostgreSQL behind a connection pooler (PgBouncer): a URL of
        the same database that keeps one server session per connection (the
        server itself, or a pooler in session mode), used for LISTEN and
        session locks while everything else goes through the pooler. Only as
        a keyword option: in the URL's query string its password would show.
    """

    namespace: str = DEFAULT_NAMESPACE
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 30.0
    connect_timeout: float = 10.0
    sqlite_synchronous: str = "normal"
    sqlite_busy_timeout: float = 30.0
    direct_url: str | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        """What every table name of this namespace starts with."""
        return f"{self.namespace}_"


OPTION_NAMES = frozenset(f.name for f in fields(SqlOptions))


def parse_options(options: Mapping[str, Any], query: Mapping[str, str], where: str) -> SqlOptions:
    """Merge and validate options; ``where`` (a masked URL) goes into error messages."""
    unknown = sorted(set(options) - OPTION_NAMES)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} for {where!r}; "
            f"known: {', '.join(sorted(OPTION_NAMES))}"
        )
    if "direct_url" in query:
        raise ConfigurationError(
            f"pass direct_url as a keyword option, not in the query string of {where!r} "
            "(where its password would show)"
        )
    merged: dict[str, Any] = {**query, **options}
    values = SqlOptions(
        namespace=check_namespace(merged.get("namespace", DEFAULT_NAMESPACE)),
        pool_size=_integer(merged, "pool_size", 10, minimum=1),
        max_overflow=_integer(merged, "max_overflow", 10, minimum=0),
        pool_timeout=_seconds(merged, "pool_timeout", 30.0),
        connect_timeout=_seconds(merged, "connect_timeout", 10.0),
        sqlite_synchronous=str(merged.get("sqlite_synchronous", "normal")).lower(),
        sqlite_busy_timeout=_seconds(merged, "sqlite_busy_timeout", 30.0),
        direct_url=_optional_text(merged, "direct_url"),
    )
    if values.sqlite_synchronous not in ("normal", "full"):
        raise ConfigurationError(
            f"sqlite_synchronous must be 'normal' or 'full', got {values.sqlite_synchronous!r}"
        )
    return values


def _integer(merged: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    value = merged.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = minimum - 1
    if isinstance(value, bool) or number < minimum or str(number) != str(value).strip():
        raise ConfigurationError(f"option {name} must be an integer >= {minimum}, got {value!r}")
    return number


def _seconds(merged: Mapping[str, Any], name: str, default: float) -> float:
    value = merged.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise ConfigurationError(
            f"option {name} must be a positive number of seconds, got {value!r}"
        )
    return number


def _optional_text(merged: Mapping[str, Any], name: str) -> str | None:
    value = merged.get(name)
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ConfigurationError(f"option {name} must be a URL (a non-empty str)")
    return value
