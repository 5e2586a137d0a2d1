"""Registers redis://, rediss:// and unix:// through taskkit's public plugin hook.

Import-light: redis-py is imported inside the opener, the first time a
Redis URL is opened, never when plugins are loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskkit_core.backend import Capabilities, Connection
from taskkit_core.hookspecs import hookimpl
from taskkit_core.registry import BackendRegistry

CAPABILITIES = Capabilities(
    multi_process=True, push_wakeups=True, transactional_enqueue=False, server_clock=True
)

SCHEMES = {
    "redis": "Redis over TCP (redis-py)",
    "rediss": "Redis over TLS (redis-py)",
    "unix": "Redis over a unix socket (redis-py)",
}


def _open(url: str, options: Mapping[str, Any]) -> Connection:
    from .connection import open_redis

    return open_redis(url, options)


def _drop(url: str, options: Mapping[str, Any]) -> None:
    from .connection import drop_namespace

    drop_namespace(url, options)


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    """Serve the three Redis URL schemes."""
    for scheme, description in SCHEMES.items():
        registry.add(
            scheme,
            _open,
            capabilities=CAPABILITIES,
            drop=_drop,
            description=description,
            drivers={"redis": "taskkit[redis]"},
        )
