"""Redis URLs and connection options: parsed and checked, never echoed.

Accepted URLs (redis-py's forms)::

    redis://[[username]:password@]host[:port][/db][?option=value&...]
    rediss://...                       the same over TLS
    unix://[[username]:password@]/path/to/socket[?db=N&option=value...]

A message about a bad URL never quotes the URL nor any part of it that
could hold the password: redis-py's own errors do ("Port could not be cast
to integer value as 'pa'" is the start of a password with an unescaped
``/``), so they are replaced by a one-line ConfigurationError that names
the problem and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from redis.connection import parse_url
from taskkit_core.errors import ConfigurationError

SCHEMES = ("redis", "rediss", "unix")

TUNING_DEFAULTS: dict[str, float] = {
    "socket_timeout": 5.0,  # seconds a command may wait for its reply
    "socket_connect_timeout": 5.0,  # seconds to open a connection
    "health_check_interval": 5,  # PING a connection idle this long before reusing it
    "max_connections": 64,  # connections per process and URL; more wait for a free one
}
"""Options that may come from the URL query or from keyword arguments."""

TLS_OPTIONS = frozenset(
    {
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_ca_path",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_check_hostname",
        "ssl_min_version",
    }
)
URL_OPTIONS = frozenset({"db", "client_name", *TUNING_DEFAULTS}) | TLS_OPTIONS
INTEGER_OPTIONS = frozenset({"max_connections", "health_check_interval"})

PERCENT_ENCODE_HINT = "percent-encode special characters of the password (e.g. / as %2F)"


@dataclass(frozen=True)
class RedisTarget:
    """Where and how to connect: redis-py connection arguments plus a safe label.

    ``connection_kwargs`` holds the password, so it is left out of the repr;
    ``address`` (host:port/db or the socket path) never holds credentials.
    """

    scheme: str
    address: str
    connection_kwargs: dict[str, Any] = field(repr=False)
    nodes: tuple[tuple[str, int], ...] = ()
    """The Sentinels, or the cluster's startup nodes (``hosts``); empty for one server."""
    service: str = ""
    """The name Sentinel knows the primary by (redis+sentinel:// only)."""
    sentinel_kwargs: dict[str, Any] = field(default_factory=dict, repr=False)
    """redis-py connection arguments for the Sentinels themselves."""

    @property
    def tls(self) -> bool:
        return self.scheme == "rediss"


def parse_redis_url(url: str, options: Mapping[str, Any] | None = None) -> RedisTarget:
    """The target of ``url`` with ``options`` (socket_timeout, ...) applied.

    Raises ConfigurationError with a one-line message that holds neither the
    URL nor any part of its password.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise ConfigurationError("a Redis URL must start with redis://, rediss:// (TLS) or unix://")
    split = _split(url)
    check_credentials_are_whole(split)
    kwargs = _redis_py_kwargs(url)
    _check_query_options(scheme, split, kwargs)
    _check_location(scheme, split, kwargs)
    for name, value in _tuning(kwargs, options or {}).items():
        kwargs[name] = value
    return RedisTarget(scheme=scheme, address=_address(scheme, kwargs), connection_kwargs=kwargs)


# The parsers' errors may quote the password: each check below raises its own
# error after the ``except`` block, so the original is not even the hidden
# ``__context__`` of ours.


def _split(url: str) -> SplitResult:
    try:
        split = urlsplit(url)
        _ = split.port  # raises ValueError on a port that is not a number
        return split
    except ValueError:
        pass
    raise ConfigurationError(
        "malformed Redis URL: the part after the host is not a port number in 0-65535; "
        f"a ':' or '/' in the password can look like one: {PERCENT_ENCODE_HINT}"
    )


def check_credentials_are_whole(split: SplitResult) -> None:
    """Refuse a URL whose password holds an unescaped '/', '?' or '#' (one line, no password)."""
    # An unescaped '/', '?' or '#' in the password ends the credentials early,
    # so their '@' lands in the path, query or fragment.
    path_break = "@" in split.path and bool(split.netloc) and "@" not in split.netloc
    if path_break or "@" in split.query or "@" in split.fragment:
        raise ConfigurationError(
            "malformed Redis URL: the credentials hold an unescaped '/', '?' or '#'; "
            + PERCENT_ENCODE_HINT
        )


def _redis_py_kwargs(url: str) -> dict[str, Any]:
    problem = f"redis-py cannot parse it; {PERCENT_ENCODE_HINT}"
    try:
        # redis-py's parse_url has no annotations; it returns a dict of str keys.
        return dict(parse_url(url))  # type: ignore[no-untyped-call]
    except Exception as exc:
        if str(exc).startswith("Invalid value for '"):
            # Names only the option, never its value; the query holds no credentials.
            problem = str(exc)
    raise ConfigurationError(f"malformed Redis URL: {problem}")


def _check_query_options(scheme: str, split: SplitResult, kwargs: dict[str, Any]) -> None:
    given = set(parse_qs(split.query))
    unknown = sorted(given - URL_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(map(repr, unknown))} in the Redis URL; "
            f"known: {', '.join(sorted(URL_OPTIONS))}"
        )
    misplaced = sorted(given & TLS_OPTIONS) if scheme != "rediss" else []
    if misplaced:
        raise ConfigurationError(
            f"TLS option(s) {', '.join(misplaced)} need a rediss:// URL, not {scheme}://"
        )
    if kwargs.get("db", 0) < 0:
        raise ConfigurationError("the Redis database number must be 0 or more")


def _check_location(scheme: str, split: SplitResult, kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("db", 0)
    if scheme == "unix":
        if not kwargs.get("path"):
            raise ConfigurationError(
                "a unix:// Redis URL needs the socket path, e.g. unix:///run/redis/redis.sock?db=0"
            )
        return
    path = split.path.strip("/")
    if path and not path.isdigit():
        raise ConfigurationError(
            f"the path of a {scheme}:// URL is the database number, e.g. {scheme}://host:6379/0"
        )


def _tuning(kwargs: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(TUNING_DEFAULTS))
    if unknown:
        raise ConfigurationError(
            f"unknown Redis option(s) {', '.join(unknown)}; known: namespace, "
            + ", ".join(sorted(TUNING_DEFAULTS))
        )
    tuned = {}
    for name, default in TUNING_DEFAULTS.items():
        value = options.get(name, kwargs.get(name, default))
        tuned[name] = _positive(name, value)
    return tuned


def _positive(name: str, value: object) -> float | int:
    if name in INTEGER_OPTIONS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"Redis option {name} must be a whole number >= 1")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"Redis option {name} must be a number of seconds")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ConfigurationError(f"Redis option {name} must be positive and finite")
    return number


def _address(scheme: str, kwargs: Mapping[str, Any]) -> str:
    if scheme == "unix":
        return f"unix:{kwargs['path']}?db={kwargs.get('db', 0)}"
    host = kwargs.get("host", "localhost")
    return f"{host}:{kwargs.get('port', 6379)}/{kwargs['db']}"
