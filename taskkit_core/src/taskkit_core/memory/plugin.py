"""Registers ``memory://`` through the same hook a third-party backend uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..backend import Connection
from ..hookspecs import hookimpl
from ..registry import BackendRegistry
from .backend import CAPABILITIES, open_memory


def _open(url: str, options: Mapping[str, Any]) -> Connection:
    return open_memory(url, **options)


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    registry.add(
        "memory",
        _open,
        capabilities=CAPABILITIES,
        description="in-process store for tests and embedding (threads only)",
    )
