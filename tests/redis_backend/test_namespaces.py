"""The namespace registry: a case variant is refused, drop frees the name, old ones recorded.

Redis keys never fold case, but taskkit compares namespaces without case on
every backend; the hash ``taskkit:namespaces`` holds each namespace's exact
name under its lowered one (see ``taskkit_redis.namespaces``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from taskkit_core.backend import Connection
from taskkit_core.errors import ConfigurationError
from taskkit_core.opening import drop
from taskkit_core.testing import make_task
from taskkit_redis.namespaces import REGISTRY

OpenConnection = Callable[..., Connection]


def test_a_case_variant_is_refused_until_the_namespace_is_dropped(
    open_connection: OpenConnection, redis_url: str, namespace: str, raw: redis.Redis
) -> None:
    mixed = namespace.capitalize()
    task = make_task()
    open_connection(mixed).backend.put_tasks(task)
    assert raw.hget(REGISTRY, namespace) == mixed.encode()
    with pytest.raises(ConfigurationError, match=f"namespace '{namespace}' collides with the"):
        open_connection(namespace)
    with pytest.raises(ConfigurationError):
        drop(redis_url, namespace=namespace)  # the variant's drop leaves the record alone
    assert raw.hget(REGISTRY, namespace) == mixed.encode()
    drop(redis_url, namespace=mixed)
    assert raw.hget(REGISTRY, namespace) is None
    assert open_connection(namespace).backend.lookup_tasks(task.id) == {task.id: None}
    drop(redis_url, namespace=namespace)


def test_a_namespace_used_before_the_registry_is_recorded_when_opened(
    open_connection: OpenConnection, redis_url: str, namespace: str, raw: redis.Redis
) -> None:
    task = make_task()
    open_connection().backend.put_tasks(task)
    raw.hdel(REGISTRY, namespace)  # as taskkit-redis 0.4.0 left it
    assert open_connection().backend.lookup_tasks(task.id)[task.id] == task
    assert raw.hget(REGISTRY, namespace) == namespace.encode()
    with pytest.raises(ConfigurationError):
        open_connection(namespace.upper())
    drop(redis_url, namespace=namespace)


def test_destroy_all_keeps_the_record(
    open_connection: OpenConnection, redis_url: str, namespace: str, raw: redis.Redis
) -> None:
    open_connection().backend.destroy_all()
    assert raw.hget(REGISTRY, namespace) == namespace.encode()
    drop(redis_url, namespace=namespace)
