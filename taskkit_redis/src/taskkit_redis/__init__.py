"""taskkit-redis: taskkit's backend on Redis (redis://, rediss://, unix://).

Install ``taskkit[redis]`` and open a Redis URL with ``Kit.from_url`` or
``taskkit_core.connect``; the backend registers itself through the
``taskkit`` entry point. ``open_redis(url, options)`` is the opener that
entry point registers. The key layout is documented in
:mod:`taskkit_redis.keys`. Importing this package does not import redis-py;
opening a URL does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import RedisBackend
    from .capabilities import CAPABILITIES
    from .events import RedisEventBridge
    from .locks import RedisLock
    from .opener import open_redis

_HOMES = {
    "CAPABILITIES": "capabilities",
    "RedisBackend": "backend",
    "RedisEventBridge": "events",
    "RedisLock": "locks",
    "open_redis": "opener",
}

__all__ = ["CAPABILITIES", "RedisBackend", "RedisEventBridge", "RedisLock", "open_redis"]


def __getattr__(name: str) -> Any:
    """The names above, imported on first use: plugin discovery imports only the plugin."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'taskkit_redis' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)
