"""taskkit-redis: taskkit's backend on Redis (redis://, rediss://, unix://).

Install ``taskkit[redis]`` and open a Redis URL with ``Kit.from_url`` or
``taskkit_core.connect``; the backend registers itself through the
``taskkit`` entry point. ``open_redis(url, options)`` is the opener that
entry point registers. The key layout is documented in
:mod:`taskkit_redis.keys`. Importing this package does not import redis-py;
opening a URL does.
"""

from __future__ import annotations

from .backend import RedisBackend
from .capabilities import CAPABILITIES
from .events import RedisEventBridge
from .locks import RedisLock
from .opener import open_redis

__all__ = ["CAPABILITIES", "RedisBackend", "RedisEventBridge", "RedisLock", "open_redis"]
