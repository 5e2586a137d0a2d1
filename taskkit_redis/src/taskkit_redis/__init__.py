"""taskkit-redis: taskkit's backend on Redis (redis://, rediss://, unix://).

Install ``taskkit[redis]`` and open a Redis URL with ``Kit.from_url`` or
``taskkit_core.connect``; the backend registers itself through the
``taskkit`` entry point. The key layout is documented in
:mod:`taskkit_redis.keys`. Importing this package does not import redis-py;
opening a URL does.
"""

from __future__ import annotations

from typing import Any

from taskkit_core.backend import Connection

from .backend import RedisBackend
from .events import RedisEventBridge
from .locks import RedisLock
from .plugin import CAPABILITIES

__all__ = ["CAPABILITIES", "RedisBackend", "RedisEventBridge", "RedisLock", "open_redis"]


def open_redis(url: str, **options: Any) -> Connection:
    """Open a Redis URL directly (``taskkit_core.connect`` is the usual door)."""
    from .connection import open_redis as open_url

    return open_url(url, options)
