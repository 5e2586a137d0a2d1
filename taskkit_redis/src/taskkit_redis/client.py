"""The redis-py client of an opened URL: its pool, timeouts, retries and a server check.

Each opened URL gets its own client, with its own pool of connections:

- one server (``redis://``, ``rediss://``, ``unix://``): ``redis.Redis``
  over a blocking pool;
- ``redis+sentinel://``: the same client, whose pool asks the Sentinels
  for the primary's address each time it opens a connection (redis-py's
  ``SentinelConnectionPool``), so after a failover every new connection
  goes to the new primary. Connections to the old one break (it was killed,
  or the Sentinels disconnect its clients when they turn it into a
  replica) or answer READONLY, which redis-py turns into a broken
  connection; either way the command is retried on a fresh one;
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
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import BlockingConnectionPool
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
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
        return _sentinel_client(target)
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


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """redis-py's Sentinel pool, with the waiting of the blocking pool.

    Callers beyond ``max_connections`` wait for a free connection (up to
    ``socket_timeout``) as on one server, instead of failing at once; the
    Sentinel half picks the address of each new connection and drops
    connections to a primary that is no longer the primary.
    """


class Sentinels(Sentinel):
    """redis-py's Sentinel client, whose "no primary found" error is one short line.

    redis-py's own message holds the repr of every Sentinel's client (no
    password, but kilobytes of connection arguments per Sentinel).
    """

    def discover_master(self, service_name: str) -> tuple[str, int]:
        try:
            address: tuple[str, int] = super().discover_master(service_name)  # type: ignore[no-untyped-call]
        except MasterNotFoundError:
            pools = (sentinel.connection_pool for sentinel in self.sentinels)
            where = ", ".join("{host}:{port}".format_map(p.connection_kwargs) for p in pools)
            message = f"no Sentinel at {where} names a primary for {service_name!r}"
            raise MasterNotFoundError(message) from None
        return address


def _sentinel_client(target: RedisTarget) -> redis.Redis:
    kwargs = dict(target.connection_kwargs)
    sentinels = list(target.nodes)
    # Sentinel, ClusterNode and their methods have no annotations in redis-py.
    # No retries on a Sentinel: the next one is asked instead (redis-py's default
    # would retry each unreachable Sentinel for seconds).
    once = {**target.sentinel_kwargs, "retry": Retry(NoBackoff(), 0)}
    sentinel = Sentinels(sentinels, sentinel_kwargs=once)  # type: ignore[no-untyped-call]
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        target.service,
        connection_pool_class=BlockingSentinelPool,
        timeout=kwargs["socket_timeout"],
        retry=_retry(),
        **kwargs,
    )
    return _closing_its_pool(client)


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
