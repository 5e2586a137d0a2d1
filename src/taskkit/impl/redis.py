"""taskkit 0.2's ``taskkit.impl.redis.make_kit``, now a Kit over taskkit-redis.

0.2 took a redis-py client; taskkit 0.4 opens its own clients from a URL
(worker processes reopen the backend from it), so make_kit reads the
client's address, database, user, password and TLS switch into a URL.
Other client settings (timeouts, TLS certificate files) are not carried
over: pass them to ``Kit.from_url`` as URL options instead.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from taskkit_core import ConfigurationError, Kit, TaskHandler

if TYPE_CHECKING:
    from redis import Redis

if find_spec("taskkit_redis") is None:
    raise ImportError(
        'taskkit.impl.redis needs the Redis backend of taskkit 0.4: pip install "taskkit[redis]"'
    )

__all__ = ["make_kit"]


def make_kit(redis: Redis, handler: TaskHandler) -> Kit:
    """A Kit whose tasks live on the Redis server ``redis`` is connected to."""
    return Kit.from_url(redis_url(redis), handler)


def redis_url(client: Redis) -> str:
    """The URL of the server, database and credentials of a redis-py client."""
    pool = getattr(client, "connection_pool", None)
    kwargs: dict[str, Any] | None = getattr(pool, "connection_kwargs", None)
    if kwargs is None:
        raise ConfigurationError(
            f"make_kit needs a redis.Redis client, got {type(client).__name__}; "
            "use taskkit_core.Kit.from_url with a redis:// URL instead"
        )
    credentials = _credentials(kwargs)
    db = int(kwargs.get("db") or 0)
    if kwargs.get("path"):
        return f"unix://{credentials}{kwargs['path']}?db={db}"
    scheme = "rediss" if _uses_tls(pool) else "redis"
    host = kwargs.get("host") or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{credentials}{host}:{int(kwargs.get('port') or 6379)}/{db}"


def _uses_tls(pool: Any) -> bool:
    connection_class = getattr(pool, "connection_class", type(None))
    return "SSL" in connection_class.__name__


def _credentials(kwargs: dict[str, Any]) -> str:
    username, password = kwargs.get("username"), kwargs.get("password")
    if not username and not password:
        return ""
    user = quote(str(username or ""), safe="")
    return f"{user}:{quote(str(password), safe='')}@" if password else f"{user}@"
