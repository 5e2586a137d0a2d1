"""The items of Kit.initiate_tasks: dicts, Tasks or (Task, eager) pairs, checked before any put."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from .backend import Backend
from .errors import CapabilityError, ConfigurationError
from .handler import TaskHandler
from .task import DEFAULT_TASK_TTL, Task, Unique
from .url import mask_url


class InitiateTaskArgs(TypedDict):
    """One item of ``Kit.initiate_tasks`` as a dict (the arguments of ``initiate_task``)."""

    group: str
    name: str
    data: Any
    due: NotRequired[datetime | float | None]
    ttl: NotRequired[float]
    eager: NotRequired[bool]
    priority: NotRequired[int]
    unique: NotRequired[Unique | str | None]
    timeout: NotRequired[float | None]
    headers: NotRequired[Mapping[str, str] | None]


def check_put_capabilities(backend: Backend, tasks: list[Task], connection: Any) -> None:
    """Refuse tasks the backend cannot honour: one CapabilityError line, nothing written."""
    capabilities = backend.capabilities
    if connection is not None and not capabilities.transactional_enqueue:
        raise CapabilityError(
            f"{mask_url(backend.url)!r} cannot join an application transaction "
            "(capability transactional_enqueue)"
        )
    if not capabilities.priorities and any(task.priority for task in tasks):
        raise CapabilityError(
            f"{mask_url(backend.url)!r} does not order claims by priority; "
            "leave priority at 0 (capability priorities)"
        )
    if not capabilities.unique_tasks and any(task.unique for task in tasks):
        raise CapabilityError(
            f"{mask_url(backend.url)!r} cannot keep task keys unique; "
            "put the task without unique (capability unique_tasks)"
        )


def prepare_item(
    handler: TaskHandler, item: Task | tuple[Task, bool] | InitiateTaskArgs
) -> tuple[Task, bool]:
    """One initiate_tasks item as a validated (Task, eager) pair; the payload encoded."""
    if isinstance(item, Task):
        return item, False
    if isinstance(item, tuple):
        task, eager = item
        if not isinstance(task, Task):
            raise ConfigurationError(f"expected a (Task, eager) pair, got {item!r}")
        return task, bool(eager)
    if not isinstance(item, Mapping):
        raise ConfigurationError(
            f"initiate_tasks takes dicts, Tasks or (Task, eager) pairs, got {item!r}"
        )
    try:
        group, name, data = item["group"], item["name"], item["data"]
    except KeyError:
        missing = {"group", "name", "data"} - set(item)
        raise ConfigurationError(
            f"task dict lacks {', '.join(sorted(missing))}: {item!r}"
        ) from None
    encoded = handler.encode_data(group, name, data)
    if len(item) == 3:  # the common bulk item: every option at its default
        return Task.init(group, name, encoded), False
    unique = item.get("unique")
    task = Task.init(
        group,
        name,
        encoded,
        due=item.get("due"),
        ttl=item.get("ttl", DEFAULT_TASK_TTL),
        priority=item.get("priority", 0),
        unique=Unique(unique) if isinstance(unique, str) else unique,
        timeout=item.get("timeout"),
        headers=item.get("headers"),
    )
    return task, bool(item.get("eager"))
