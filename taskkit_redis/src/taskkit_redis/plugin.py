"""Registers taskkit's Redis URL schemes through its public plugin hook.

Import-light: the opener imports redis-py the first time a Redis URL is
opened, never when plugins are loaded.
"""

from __future__ import annotations

from taskkit_core.hookspecs import hookimpl
from taskkit_core.registry import BackendRegistry

from .capabilities import CAPABILITIES
from .opener import drop_redis, open_redis

SCHEMES = {
    "redis": "Redis over TCP (redis-py)",
    "rediss": "Redis over TLS (redis-py)",
    "unix": "Redis over a unix socket (redis-py)",
    "redis+sentinel": "Redis, the primary named by Sentinels (redis-py)",
    "redis+cluster": "Redis Cluster, a namespace in one slot (redis-py)",
}


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    """Serve the Redis URL schemes."""
    for scheme, description in SCHEMES.items():
        registry.add(
            scheme,
            open_redis,
            capabilities=CAPABILITIES,
            drop=drop_redis,
            description=description,
            drivers={"redis": "taskkit[redis]"},
        )
