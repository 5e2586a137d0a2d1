"""The namespaces of a Redis database, by name compared without case.

taskkit compares namespaces without regard to case on every backend (see
``taskkit_core.names``): some storages fold the case of table names, so a
namespace differing from an existing one only in case is refused
everywhere, Redis included, although its keys (``{Billing}:...`` and
``{billing}:...``) would never meet. So that a refusal can be decided,
every namespace opened on a database is recorded in the hash REGISTRY:
field ``namespace_key(name)``, value the exact name. The first connection
to open a name records it (HSETNX, read back in the same MULTI: of two case
variants opened at once, one wins and the other is refused). ``drop``
removes the entry, and only while it still holds the dropped name.

REGISTRY lies outside every namespace's ``{N}:`` prefix, so ``destroy_all``
never deletes it. It is one key, touched by single-key commands only, so it
works on a cluster too (in a slot of its own). Namespaces opened by taskkit
before this registry existed are recorded when they are next opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskkit_core.names import check_same_namespace, namespace_key

if TYPE_CHECKING:
    from redis import Redis
    from redis.client import Pipeline

REGISTRY = "taskkit:namespaces"
"""The hash of namespaces: lowered name -> exact name (see the module docstring)."""


def record_namespace(client: Redis, namespace: str) -> None:
    """Record ``namespace`` unless a name differing only in case is (ConfigurationError)."""
    key = namespace_key(namespace)
    with client.pipeline(transaction=True) as pipe:
        pipe.hsetnx(REGISTRY, key, namespace)
        pipe.hget(REGISTRY, key)
        _, recorded = pipe.execute()
    check_same_namespace(namespace, None if recorded is None else recorded.decode())


def forget_namespace(client: Redis, namespace: str) -> None:
    """Remove the record of ``namespace`` (after its keys were deleted), if it is its own."""
    key, exact = namespace_key(namespace), namespace.encode()

    def forget(pipe: Pipeline) -> None:
        if pipe.hget(REGISTRY, key) == exact:
            pipe.multi()
            pipe.hdel(REGISTRY, key)

    client.transaction(forget, REGISTRY)
