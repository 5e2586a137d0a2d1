"""URLs that name several hosts: Redis Sentinel and Redis Cluster.

Accepted URLs (the form redis-py's ecosystem uses for Sentinel, and its
analogue for Cluster)::

    redis+sentinel://[[username]:password@]host[:port][,host[:port]...]/service_name[/db][?option=value&...]
    redis+cluster://[[username]:password@]host[:port][,host[:port]...][/0][?option=value&...]

The hosts of a Sentinel URL are Sentinels (port 26379 unless given); they
name the primary of ``service_name``, which redis-py asks them for on
every new connection. The hosts of a Cluster URL are startup nodes (port
6379 unless given), from which the client learns the whole cluster.

The credentials are those of the data nodes (the primary and its
replicas, or the cluster's nodes). Sentinels that require a password
themselves usually share it: ``sentinel_auth=yes`` sends the URL's
credentials to the Sentinels too. Every other option is an option of a
``redis://`` URL; TLS options are refused (these schemes have no TLS form
yet), and a cluster has only database 0.

A URL is checked here for what is its own (hosts, service, database,
``sentinel_auth``), then rewritten as a ``redis://`` URL of its first host
and handed to ``urls.parse_redis_url``, so the password checks and the
options are exactly those of a single server. Like there, no message
quotes the URL, a host, or any part that could hold the password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from taskkit_core.errors import ConfigurationError

from .urls import (
    PERCENT_ENCODE_HINT,
    TLS_OPTIONS,
    URL_OPTIONS,
    RedisTarget,
    check_credentials_are_whole,
    parse_redis_url,
)

SENTINEL = "redis+sentinel"
CLUSTER = "redis+cluster"
DEFAULT_PORTS = {SENTINEL: 26379, CLUSTER: 6379}
SENTINEL_OPTIONS = frozenset({"sentinel_auth"})
YES, NO = frozenset({"yes", "true", "1"}), frozenset({"no", "false", "0"})


def parse_target(url: str, options: Mapping[str, Any] | None = None) -> RedisTarget:
    """The target of any Redis URL taskkit serves, one server or several hosts."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == SENTINEL:
        return parse_sentinel_url(url, options)
    if scheme == CLUSTER:
        return parse_cluster_url(url, options)
    return parse_redis_url(url, options)


def parse_sentinel_url(url: str, options: Mapping[str, Any] | None = None) -> RedisTarget:
    """A ``redis+sentinel://`` URL: the Sentinels, the service, and the primary's options."""
    split, nodes = _split_hosts(SENTINEL, url)
    service, db = _service_and_db(split.path)
    query = _query(SENTINEL, split.query)
    sentinel_auth = _yes_or_no("sentinel_auth", query.pop("sentinel_auth", "no"))
    target = _as_one_server(split, nodes[0], db, query, options)
    kwargs = target.connection_kwargs
    sentinel_kwargs = {name: kwargs[name] for name in ("socket_timeout", "socket_connect_timeout")}
    if sentinel_auth:
        sentinel_kwargs |= {name: kwargs.get(name) for name in ("username", "password")}
    where = ",".join(f"{host}:{port}" for host, port in nodes)
    return replace(
        target,
        scheme=SENTINEL,
        address=f"service {service!r} of the Sentinels {where}, db {kwargs['db']}",
        nodes=nodes,
        service=service,
        sentinel_kwargs=sentinel_kwargs,
    )


def parse_cluster_url(url: str, options: Mapping[str, Any] | None = None) -> RedisTarget:
    """A ``redis+cluster://`` URL: the startup nodes and the nodes' options."""
    split, nodes = _split_hosts(CLUSTER, url)
    path = split.path.strip("/")
    query = _query(CLUSTER, split.query)
    if path not in ("", "0") or query.get("db", "0") != "0":
        raise ConfigurationError("a Redis Cluster has only database 0: use redis+cluster://host/0")
    target = _as_one_server(split, nodes[0], "0", query, options)
    kwargs = dict(target.connection_kwargs)
    del kwargs["db"]  # RedisCluster refuses a db argument, even 0
    where = ",".join(f"{host}:{port}" for host, port in nodes)
    return replace(
        target, scheme=CLUSTER, address=f"cluster {where}", connection_kwargs=kwargs, nodes=nodes
    )


def _split_hosts(scheme: str, url: str) -> tuple[SplitResult, tuple[tuple[str, int], ...]]:
    try:
        split = urlsplit(url)
    except ValueError:  # an unbalanced '[' or ']'
        raise ConfigurationError(f"malformed {scheme}:// URL: {PERCENT_ENCODE_HINT}") from None
    check_credentials_are_whole(split)
    hosts = split.netloc.rpartition("@")[2].split(",")
    nodes = tuple(_host(scheme, number, host) for number, host in enumerate(hosts, 1))
    return split, nodes


def _host(scheme: str, number: int, text: str) -> tuple[str, int]:
    """(host, port) of one ``host[:port]`` or ``[v6]:port`` of a host list."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") or not rest else "-"
    else:
        host, colon, port = text.partition(":")
        port = port if colon else ""
    if not host:
        raise ConfigurationError(
            f"host {number} of the {scheme}:// URL is empty; e.g. {scheme}://h1:26379,h2:26379/..."
        )
    if not port:
        return unquote(host), DEFAULT_PORTS[scheme]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(
            f"malformed {scheme}:// URL: the port of host {number} is not a number in 1-65535; "
            f"a ':' or ',' in the password can look like one: {PERCENT_ENCODE_HINT}"
        )
    return unquote(host), int(port)


def _service_and_db(path: str) -> tuple[str, str]:
    parts = path.strip("/").split("/") if path.strip("/") else []
    if not 1 <= len(parts) <= 2 or not parts[0]:
        raise ConfigurationError(
            "a redis+sentinel:// URL names the service after the hosts: "
            "redis+sentinel://h1:26379,h2:26379/mymaster[/db]"
        )
    db = parts[1] if len(parts) == 2 else ""
    if db and not db.isdigit():
        raise ConfigurationError(
            "the database of a redis+sentinel:// URL comes after the service and is a number, "
            "e.g. redis+sentinel://h1:26379/mymaster/0"
        )
    return unquote(parts[0]), db


def _query(scheme: str, query: str) -> dict[str, str]:
    """The options of the query (last value wins), refusing those a scheme does not take."""
    given = dict(parse_qsl(query, keep_blank_values=True))
    tls = sorted(set(given) & TLS_OPTIONS)
    if tls:
        raise ConfigurationError(f"{scheme}:// has no TLS form yet; refused: {', '.join(tls)}")
    known = URL_OPTIONS - TLS_OPTIONS | (SENTINEL_OPTIONS if scheme == SENTINEL else frozenset())
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(map(repr, unknown))} in the {scheme}:// URL; "
            f"known: {', '.join(sorted(known))}"
        )
    return given


def _yes_or_no(name: str, value: str) -> bool:
    if value.lower() not in YES | NO:
        raise ConfigurationError(f"the URL option {name} is yes or no")
    return value.lower() in YES


def _as_one_server(
    split: SplitResult,
    node: tuple[str, int],
    db: str,
    query: Mapping[str, str],
    options: Mapping[str, Any] | None,
) -> RedisTarget:
    """Parse the credentials and options as those of a redis:// URL of ``node``.

    The host and port are left out of the result: each connection learns
    its own (from the Sentinels, or from the cluster's slot map).
    """
    credentials, at, _ = split.netloc.rpartition("@")
    host = f"[{node[0]}]" if ":" in node[0] else node[0]
    netloc = f"{credentials}{at}{host}:{node[1]}"
    single = urlunsplit(("redis", netloc, f"/{db}" if db else "", urlencode(query), ""))
    target = parse_redis_url(single, options)
    kwargs = {k: v for k, v in target.connection_kwargs.items() if k not in ("host", "port")}
    return replace(target, connection_kwargs=kwargs)
