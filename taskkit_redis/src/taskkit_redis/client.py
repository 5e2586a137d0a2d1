"""The redis-py client of an opened URL: its pool, timeouts, retries and a server check.

Each opened URL gets its own client, with its own pool of connections.
Commands retry a few times on a broken connection (a restarted server, a
connection idle too long), with a short jittered backoff, then fail so
that the worker's own outage handling (one log line, backoff, retry)
takes over. Timeouts are not retried, so no call blocks much longer than
``socket_timeout``. Retrying is safe: puts are idempotent, claims carry a
token that makes a repeated claim return what the first one staged (no
forgotten claim stays staged), and every settle is a compare-and-set.

On the first open of a server in a process, the server's persistence and
eviction settings are checked and one warning is logged when Redis may
lose acknowledged tasks (``appendonly no``) or evict them (a
``maxmemory-policy`` other than ``noeviction``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from .urls import RedisTarget

logger = logging.getLogger("taskkit.redis")

RETRIES = 3
"""Retries of a command that met a broken connection, 50 ms to 0.5 s apart."""

_checked_servers: set[str] = set()
_checked_lock = threading.Lock()


def make_client(target: RedisTarget) -> redis.Redis:
    """A client with a bounded pool, timeouts and retries on broken connections."""
    kwargs = dict(target.connection_kwargs)
    connection_class = kwargs.pop("connection_class", redis.Connection)
    max_connections = kwargs.pop("max_connections")
    retry = Retry(
        ExponentialWithJitterBackoff(base=0.05, cap=0.5),
        RETRIES,
        supported_errors=(redis.ConnectionError,),
    )
    # BlockingConnectionPool.__init__ has no annotations in redis-py.
    pool = redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
        connection_class=connection_class,
        max_connections=max_connections,
        timeout=kwargs["socket_timeout"],
        retry=retry,
        **kwargs,
    )
    return redis.Redis(connection_pool=pool)


def warn_about_durability(client: redis.Redis, target: RedisTarget) -> None:
    """Log one warning per process and server whose settings can lose tasks."""
    with _checked_lock:
        if target.address in _checked_servers:
            return
        _checked_servers.add(target.address)
    try:
        persistence = client.info("persistence")
        memory = client.info("memory")
    except redis.ResponseError:  # INFO denied by an ACL: nothing to say
        logger.debug("cannot read the settings of Redis at %s", target.address)
        return
    problems = durability_problems(persistence, memory)
    if problems:
        logger.warning(
            "Redis at %s: %s (see the taskkit-redis README)", target.address, "; ".join(problems)
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
