"""The namespaces of a Redis database, by name compared without case.

taskkit compares namespaces without regard to case on every backend (see
``taskkit_core.names``): some storages fold the case of table names, so a
namespace differing from an existing one only in case is refused
everywhere, Redis included, although its keys (``{Billing}:...`` and
``{billing}:...``) would never meet. So that a refusal can be decided,
every namespace opened on a database is recorded in the hash REGISTRY:
field ``namespace_key(name)``, value the exact name. The first connection
to open a name records it (HSETNX and HGET in one script: of two case
variants opened at once, one wins and the other is refused). ``drop``
removes the field, and only while it still holds the dropped name.

REGISTRY lies outside every namespace's ``{N}:`` prefix, so ``destroy_all``
never deletes it. It is one key, touched by one-key scripts only, so it
works on a cluster too (in a slot of its own). A namespace opened by
taskkit before this registry existed is recorded when it is next opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskkit_core.names import check_same_namespace, namespace_key

if TYPE_CHECKING:
    from .client import RedisClient

REGISTRY = "taskkit:namespaces"
"""The hash of namespaces: lowered name -> exact name (see the module docstring)."""

# KEYS[1] the registry; ARGV[1] the lowered name, ARGV[2] the exact name.
_RECORD = """
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
"""
_FORGET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


def record_namespace(client: RedisClient, namespace: str) -> None:
    """Record ``namespace`` unless a name differing only in case is (ConfigurationError)."""
    record = client.register_script(_RECORD)  # EVALSHA, loaded on the first NOSCRIPT
    recorded = record(keys=[REGISTRY], args=[namespace_key(namespace), namespace])
    check_same_namespace(namespace, _text(recorded))


def forget_namespace(client: RedisClient, namespace: str) -> None:
    """Remove the record of ``namespace`` (after its keys were deleted), if it is its own."""
    forget = client.register_script(_FORGET)
    forget(keys=[REGISTRY], args=[namespace_key(namespace), namespace])


def _text(value: object) -> str | None:
    return value.decode() if isinstance(value, bytes) else None if value is None else str(value)
