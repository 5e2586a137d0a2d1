"""The pool of a ``redis+sentinel://`` URL: connections go to the primary the Sentinels name.

redis-py's ``SentinelConnectionPool`` asks the Sentinels for the primary's
address whenever it opens a connection, and drops connections to an
address that is no longer the primary's when they come back to the pool.
That alone follows a failover in which the old primary dies (its
connections break). It does not follow one in which the old primary lives
on (``SENTINEL FAILOVER``, a network split healed): its pooled connections
keep writing to it, and it takes those writes, to be lost, until the
Sentinels turn it into a replica, which they do only when they next poll
it (up to 10 s in our measurements). So the pool here also asks the
Sentinels at most once every RECHECK seconds, when a connection is taken;
if the primary moved, idle connections are closed and the one taken
reconnects to the new primary.

Connections to the old primary that are in use meanwhile break or answer
READONLY (redis-py turns that into a broken connection); the command is
then retried on a fresh connection (see ``client``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.connection import BlockingConnectionPool
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool

from .urls import RedisTarget

RECHECK = 1.0
"""Seconds between two questions of a pool to the Sentinels about where the primary is."""


def sentinel_client(target: RedisTarget, retry: Retry) -> redis.Redis:
    """A client of the primary of ``target.service``, wherever the Sentinels say it is."""
    kwargs = dict(target.connection_kwargs)
    # No retries on one Sentinel: the next one is asked instead (redis-py's
    # default would retry each unreachable Sentinel for seconds).
    once = {**target.sentinel_kwargs, "retry": Retry(NoBackoff(), 0)}
    # Sentinel and its methods have no annotations in redis-py.
    sentinels = Sentinels(list(target.nodes), sentinel_kwargs=once)  # type: ignore[no-untyped-call]
    client: redis.Redis = sentinels.master_for(  # type: ignore[no-untyped-call]
        target.service,
        connection_pool_class=BlockingSentinelPool,
        timeout=kwargs["socket_timeout"],
        retry=retry,
        **kwargs,
    )
    return client


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
            message = (
                f"no Sentinel at {where} names a primary that is up for {service_name!r} "
                "(Sentinels unreachable, an unknown service, or a failover under way)"
            )
            raise MasterNotFoundError(message) from None
        return address


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """redis-py's Sentinel pool, with the waiting of the blocking pool and a recheck.

    Callers beyond ``max_connections`` wait for a free connection (up to
    ``socket_timeout``) as on one server, instead of failing at once. Taking
    a connection asks the Sentinels where the primary is, at most every
    RECHECK seconds (see the module docstring).
    """

    # The redis-py pools have no annotations.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._checked_at = time.monotonic()
        self._check_lock = threading.Lock()

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() - self._checked_at >= RECHECK:
            self._recheck()
        return super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]

    def _recheck(self) -> None:
        if not self._check_lock.acquire(blocking=False):
            return  # another thread is asking
        try:
            self._checked_at = time.monotonic()
            # Closes the idle connections when the primary moved.
            self.get_master_address()  # type: ignore[no-untyped-call]
        except redis.ConnectionError:
            pass  # no primary now: opening a connection will say so
        finally:
            self._check_lock.release()
