"""Backend URLs into SQLAlchemy URLs: default drivers, validation, masking.

Accepted schemes (the driver in brackets is what a bare scheme uses):

- ``sqlite:///relative/path.db`` (three slashes: relative to the working
  directory) and ``sqlite:////absolute/path.db`` (four slashes) [pysqlite].
  ``sqlite://``, ``sqlite:///:memory:`` and ``file::memory:`` URIs are
  refused: an in-memory database cannot be shared by worker processes; use
  ``memory://`` for that.
- ``postgresql://``, ``postgres://``, ``postgresql+psycopg://`` [psycopg 3].
- ``mysql://``, ``mariadb://``, with ``+pymysql`` [PyMySQL, the default] or
  ``+mysqldb`` (needs mysqlclient).

Each family checks what it needs of a URL (``Family.check_url``).
Query parameters that name a taskkit-sql option (``?namespace=...``) are
taken out; the others go to the driver (``?sslmode=require``). Every error
message shows the URL with its password masked as ``***``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from taskkit_core.errors import ConfigurationError
from taskkit_core.url import mask_url, parse_url

from .databases import SCHEMES, family_of
from .databases.base import Family
from .options import OPTION_NAMES, SqlOptions, parse_options


@dataclass(frozen=True)
class SqlURL:
    """A validated backend URL; repr and str show the password as ``***``."""

    raw: str = field(repr=False)
    family: Family = field(repr=False)
    sqlalchemy_url: URL = field(repr=False)
    query_options: dict[str, str] = field(repr=False)

    def masked(self) -> str:
        return mask_url(self.raw)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"SqlURL({self.masked()!r})"


def parse_sql_url(raw: str, option_names: frozenset[str]) -> SqlURL:
    """Check ``raw`` and map it onto SQLAlchemy; ConfigurationError if it is unusable."""
    parsed = parse_url(raw)
    if parsed.scheme not in SCHEMES:
        raise ConfigurationError(
            f"taskkit-sql does not serve {parsed.scheme}:// ({mask_url(raw)!r})"
        )
    family = family_of(parsed.scheme)
    url = _make_url(raw).set(drivername=SCHEMES[parsed.scheme].schemes[parsed.scheme])
    _check_host(raw, url)
    family.check_url(raw, parsed.scheme, url)
    options = {k: v for k, v in url.query.items() if k in option_names and isinstance(v, str)}
    url = url.difference_update_query(options)
    return SqlURL(raw=raw, family=family, sqlalchemy_url=url, query_options=options)


def _make_url(raw: str) -> URL:
    try:
        return make_url(raw)
    except Exception:  # noqa: S110 - SQLAlchemy's message quotes the URL, password included
        pass  # raised below, outside the except block, so nothing chains the original
    raise ConfigurationError(
        f"malformed backend URL {mask_url(raw)!r}: expected scheme://user:password@host:port/db "
        "(percent-encode special characters in the password)"
    )


def _check_host(raw: str, url: URL) -> None:
    host = url.host or ""
    if "@" in host or "/" in host:
        raise ConfigurationError(
            f"malformed backend URL {mask_url(raw)!r}: the password seems to hold an "
            "unescaped '@' or '/'; percent-encode it (%40, %2F)"
        )
    try:
        _ = url.port
    except ValueError:
        raise ConfigurationError(f"malformed port in backend URL {mask_url(raw)!r}") from None


def resolve(url: str, options: Mapping[str, Any]) -> tuple[SqlURL, SqlOptions]:
    """The validated URL and options (ConfigurationError without the password)."""
    sql_url = parse_sql_url(url, OPTION_NAMES)
    parsed = parse_options(options, sql_url.query_options, sql_url.masked())
    sql_url.family.check_options(parsed, sql_url.masked())
    return sql_url, parsed
