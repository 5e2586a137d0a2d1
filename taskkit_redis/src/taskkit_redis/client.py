"""The redis-py client of an opened URL: its pool, timeouts, retries and a server check.

Each opened URL gets its own client, with its own pool of connections:

- one server (``redis://``, ``rediss://``, ``unix://``): ``redis.Redis``
  over a blocking pool;
- ``redis+sentinel://``: the same client over a pool that asks the
  Sentinels where the primary is (see ``sentinels``);
- ``redis+cluster://``: ``redis.cluster.RedisCluster``, which learns the
  slot map from the startup nodes and follows MOVED replies. A namespace
  lives in one slot (see ``keys``), so every script runs on one node.

Commands retry a few times on a broken connection (a restarted server, a
failover, a connection idle too long), with a short jittered backoff,
then fail so that the worker's own outage handling (one log line,
backoff, retry) takes over. Timeouts are not retried (on a cluster,
redis-py's cluster client retries them too), so no call blocks much
longer than ``socket_timeout``. Retrying is safe: puts are idempotent,
claims carry a token that makes a repeated claim return what the first
one staged (no forgotten claim stays staged), and every settle is a
compare-and-set.

On the first open of a server in a process, the server's persistence and
eviction settings are checked and one warning is logged when Redis may
lose acknowledged tasks (``appendonly no``) or evict them (a
``maxmemory-policy`` other than ``noeviction``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, TypeAlias

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from taskkit_core.errors import ConfigurationError

from .hosts import CLUSTER, SENTINEL
from .urls import RedisTarget

logger = logging.getLogger("taskkit.redis")

RedisClient: TypeAlias = redis.Redis | RedisCluster
"""What the backend talks to: one server's (or Sentinel's primary's) client, or a cluster's."""

RETRIES = 3
"""Retries of a command that met a broken connection, 50 ms to 0.5 s apart."""

CLUSTER_REDIS_PY = (6, 1)
"""The first redis-py whose cluster pipelines run MULTI/EXEC transactions."""

_checked_servers: set[str] = set()
_checked_lock = threading.Lock()


def make_client(target: RedisTarget) -> RedisClient:
    """A client with a bounded pool, timeouts and retries on broken connections."""
    if target.scheme == SENTINEL:
        from .sentinels import sentinel_client

        return _closing_its_pool(sentinel_client(target, _retry()))
    if target.scheme == CLUSTER:
        return _cluster_client(target)
    kwargs = dict(target.connection_kwargs)
    connection_class = kwargs.pop("connection_class", redis.Connection)
    max_connections = kwargs.pop("max_connections")
    # BlockingConnectionPool.__init__ has no annotations in redis-py.
    pool = redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
        connection_class=connection_class,
        max_connections=max_connections,
        timeout=kwargs["socket_timeout"],
        retry=_retry(),
        **kwargs,
    )
    return _closing_its_pool(redis.Redis(connection_pool=pool))


def close_client(client: RedisClient) -> None:
    """Close every connection of ``client`` (and of its Sentinels)."""
    client.close()
    if isinstance(client, redis.Redis):
        manager = getattr(client.connection_pool, "sentinel_manager", None)
        for sentinel in getattr(manager, "sentinels", []):
            sentinel.close()


def _retry() -> Retry:
    return Retry(
        ExponentialWithJitterBackoff(base=0.05, cap=0.5),
        RETRIES,
        supported_errors=(redis.ConnectionError,),
    )


def _closing_its_pool(client: redis.Redis) -> redis.Redis:
    """``client`` whose ``close`` disconnects its pool (what ``Redis.from_pool`` sets)."""
    client.auto_close_connection_pool = True
    return client


def _cluster_client(target: RedisTarget) -> RedisCluster:
    """A cluster client; its pools (one per node) do not wait: a caller beyond
    ``max_connections`` of a node fails at once (redis-py's cluster client
    takes no pool class unless it is built from a URL)."""
    _check_cluster_support(redis.__version__)
    return RedisCluster(
        startup_nodes=[ClusterNode(*node) for node in target.nodes],  # type: ignore[no-untyped-call]
        retry=_retry(),
        **target.connection_kwargs,
    )


def _check_cluster_support(version: str) -> None:
    """Refuse a redis-py too old for the transactions the backend runs on a cluster."""
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return  # a development build: let it try
    if found < CLUSTER_REDIS_PY:
        wanted = ".".join(map(str, CLUSTER_REDIS_PY))
        raise ConfigurationError(
            f"redis+cluster:// needs redis-py {wanted} or later (transactions on a cluster); "
            f'this is {version}: pip install "redis>={wanted}"'
        )


def warn_about_durability(client: RedisClient, target: RedisTarget) -> None:
    """Log one warning per process and server whose settings can lose tasks.

    On a cluster every primary node is checked (each holds some namespaces).
    """
    if isinstance(client, RedisCluster):
        for node in client.get_primaries():  # type: ignore[no-untyped-call]
            if node.redis_connection is not None:
                _check_server(node.redis_connection, node.name)
    else:
        _check_server(client, target.address)


def _check_server(client: redis.Redis, address: str) -> None:
    with _checked_lock:
        if address in _checked_servers:
            return
        _checked_servers.add(address)
    try:
        persistence = client.info("persistence")
        memory = client.info("memory")
    except redis.ResponseError:  # INFO denied by an ACL: nothing to say
        logger.debug("cannot read the settings of Redis at %s", address)
        return
    problems = durability_problems(persistence, memory)
    if problems:
        logger.warning(
            "Redis at %s: %s (see the taskkit-redis README)", address, "; ".join(problems)
        )


def durability_problems(persistence: Mapping[str, Any], memory: Mapping[str, Any]) -> list[str]:
    """What in these INFO sections can lose or evict acknowledged tasks."""
    problems = []
    if not int(persistence.get("aof_enabled", 0)):
        problems.append(
            "appendonly no: a restart loses tasks acknowledged since the last snapshot; "
            "set appendonly yes and appendfsync always"
        )
    policy = str(memory.get("maxmemory_policy", "noeviction"))
    if policy != "noeviction":
        problems.append(
            f"maxmemory-policy {policy}: Redis may evict tasks under memory pressure; "
            "set maxmemory-policy noeviction"
        )
    return problems
