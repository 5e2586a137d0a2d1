"""Opening ``memory://[name]``: what the plugin registers for the scheme."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..backend import Connection
from ..errors import ConfigurationError
from ..names import check_namespace
from .backend import MemoryBackend
from .events import MemoryEventBridge
from .store import store_named


def open_memory(url: str, options: Mapping[str, Any]) -> Connection:
    """Open ``memory://[name]``: connections to the same name share their data.

    The one option is ``namespace`` (default "taskkit").
    """
    unknown = set(options) - {"namespace"}
    if unknown:
        raise ConfigurationError(f"memory:// takes no option(s) {', '.join(sorted(unknown))}")
    namespace = check_namespace(options.get("namespace", "taskkit"))
    store = store_named(url.removeprefix("memory://").strip("/"))
    return Connection(
        backend=MemoryBackend(url, store, namespace),
        bridge=MemoryEventBridge(store, namespace),
    )
