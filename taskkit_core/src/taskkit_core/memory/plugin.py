"""Registers ``memory://`` through the same hook a third-party backend uses."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..registry import BackendRegistry
from .backend import CAPABILITIES
from .opener import open_memory


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "memory",
        open_memory,
        capabilities=CAPABILITIES,
        description="in-process store for tests and embedding (threads only)",
    )
