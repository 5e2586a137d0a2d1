"""The opener: a Redis URL and its options in, a core ``Connection`` out.

``open_redis`` is what ``plugin`` registers for redis://, rediss://,
unix://, redis+sentinel:// and redis+cluster://, and the one public
function of that name. redis-py and the backend's modules are imported
inside it, the first time a URL is opened, so loading taskkit's plugins
(in every worker process, whatever its backend) never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskkit_core.backend import Connection
from taskkit_core.names import check_namespace


def open_redis(url: str, options: Mapping[str, Any]) -> Connection:
    """Open ``url`` with ``options`` (namespace and the tuning options of ``urls``).

    A bad URL or option raises ConfigurationError (one line, no password);
    an unreachable server raises redis-py's error, which
    ``taskkit_core.connect`` turns into BackendUnavailable.
    """
    from .backend import RedisBackend
    from .client import close_client, make_client
    from .events import RedisEventBridge
    from .hosts import parse_target
    from .keys import Keys
    from .namespaces import record_namespace

    settings = dict(options)
    namespace = check_namespace(settings.pop("namespace", "taskkit"))
    target = parse_target(url, settings)
    client = make_client(target)
    try:
        record_namespace(client, namespace)
        keys = Keys(namespace)
        backend = RedisBackend(url, client, keys, address=target.address)
        bridge = RedisEventBridge(client, keys, target.connection_kwargs["socket_timeout"])
    except BaseException:
        close_client(client)
        raise
    return Connection(backend=backend, bridge=bridge)


def drop_redis(url: str, options: Mapping[str, Any]) -> None:
    """Delete every key of the namespace ``options`` names, and its record (``taskkit drop``)."""
    from .backend import RedisBackend
    from .namespaces import forget_namespace

    connection = open_redis(url, options)
    backend = connection.backend
    assert isinstance(backend, RedisBackend)
    try:
        backend.destroy_all()
        forget_namespace(backend.client, backend.namespace)
    finally:
        connection.close()
