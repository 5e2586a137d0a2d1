"""Loading the application a command works for: APP is ``module:attribute``.

The attribute names an App (task functions), a Kit, a TaskHandler (then a
backend URL is needed), or a class or function taking no arguments that
returns a Kit or TaskHandler; a dotted
attribute (``module:obj.kit``) is followed. A bare ``module`` means
``module:kit``. The current directory is put on the import path, as
``python -m`` would, so ``taskkit worker myapp:kit`` works from a project.

An App brings its own URL (or TASKKIT_URL), groups and threads (``threads``
and the groups of its tasks), periodic tasks and included modules. Next to a
Kit or TaskHandler, the module may define two conventions:

- ``THREADS = {"default": 4, "emails": 2}``: worker threads per group, the
  default of ``--threads``; its keys are the app's groups, and commands
  refuse other group names.
- ``SCHEDULE = {"nightly": [entry, ...]}`` (or a plain list of entries, which
  is the schedule named "default"): schedule entries (ScheduleEntry objects
  or dicts with unencoded data) that ``taskkit worker`` runs.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, cast

from ..app import App as TaskApp
from ..compat import ScheduleEntriesCompatMapping
from ..errors import ConfigurationError, TaskkitError
from ..handler import TaskHandler
from ..kit import Kit
from ..settings import WorkerSettings
from ..task import check_name
from .errors import CommandError
from .output import remember_url

_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_HANDLER_METHODS = ("handle", "get_retry_interval", "encode_data", "encode_result", "decode_result")


class AppError(ConfigurationError):
    """APP does not name a loadable Kit or TaskHandler (exit code 2)."""


@dataclass
class App:
    """The loaded application and the conventions its module defines."""

    spec: str
    target: Kit | TaskHandler
    threads: dict[str, int] | None
    schedule: ScheduleEntriesCompatMapping | None
    task_app: TaskApp | None = None

    def check_group(self, group: str) -> str:
        """``group`` if it is a valid name the app knows (any name when it declares none)."""
        check_name("group", group)
        if self.threads is not None and group not in self.threads:
            known = ", ".join(sorted(self.threads)) or "none"
            raise ConfigurationError(
                f"unknown group {group!r}: {self.spec} defines THREADS for {known}"
            )
        return group

    def open_kit(
        self, url: str | None, options: Mapping[str, Any], settings: WorkerSettings | None = None
    ) -> Kit:
        """A Kit over ``url`` (default: the app's Kit's own) with these backend options."""
        if self.task_app is not None:
            if not self.task_app.kit_opened:
                self.task_app.configure(url, **options)
            kit = self.task_app.kit
        elif isinstance(self.target, Kit):
            kit = _reopen(self.target, url, options)
        elif url is None:
            raise AppError(
                f"APP {self.spec} is a TaskHandler, so a backend URL is needed: "
                "set TASKKIT_URL or pass --url"
            )
        else:
            kit = Kit.from_url(url, self.target, **options)
        remember_url(kit.backend.url)
        if settings is not None:
            kit = Kit(
                kit.backend,
                kit.bridge,
                kit.handler,
                settings=settings,
                backend_options=kit.backend_options,
            )
        return kit

    @property
    def handler(self) -> TaskHandler:
        """The app's TaskHandler (its Kit's, when APP names a Kit)."""
        return self.target.handler if isinstance(self.target, Kit) else self.target

    def settings(self) -> WorkerSettings:
        """The worker settings of the app's Kit, or the defaults for a bare handler."""
        if self.task_app is not None:
            return self.task_app.settings
        return self.target.settings if isinstance(self.target, Kit) else WorkerSettings()

    def backend_url(self, options: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """The app's backend URL and options (``options`` win), without connecting if it can."""
        if self.task_app is not None:
            return self.task_app.url, {**self.task_app.backend_options, **options}
        if isinstance(self.target, Kit):
            return self.target.backend.url, {**self.target.backend_options, **options}
        return None, dict(options)


def _reopen(kit: Kit, url: str | None, options: Mapping[str, Any]) -> Kit:
    remember_url(kit.backend.url)
    same_url = url is None or url == kit.backend.url
    same_namespace = options.get("namespace", kit.backend.namespace) == kit.backend.namespace
    if same_url and same_namespace:
        return kit
    merged = {**kit.backend_options, **options}
    return Kit.from_url(url or kit.backend.url, kit.handler, settings=kit.settings, **merged)


def load_app(spec: str) -> App:
    """Import the module of ``spec`` and resolve its Kit or TaskHandler and conventions."""
    module_name, attribute = _split(spec)
    module = import_module(module_name, spec)
    value = resolve(module, attribute, spec)
    if isinstance(value, TaskApp):
        return _of_task_app(spec, value)
    target = _as_target(spec, value)
    return App(
        spec=spec,
        target=target,
        threads=_threads_of(module),
        schedule=_schedule_of(getattr(module, "SCHEDULE", None), f"{module_name}.SCHEDULE"),
    )


def _of_task_app(spec: str, app: TaskApp) -> App:
    """An App (task functions): its included modules imported, its groups and schedule."""
    app.registry.import_includes()
    schedule = app.schedule_entries()
    return App(spec, app.handler, app.threads or None, schedule or None, task_app=app)


def load_schedule(spec: str) -> ScheduleEntriesCompatMapping:
    """The schedule entries named by ``--schedule module:attribute``."""
    module_name, attribute = _split(spec)
    value = resolve(import_module(module_name, spec), attribute, spec)
    schedule = _schedule_of(value, spec)
    assert schedule is not None
    return schedule


def _split(spec: str) -> tuple[str, str]:
    module_name, _, attribute = spec.partition(":")
    attribute = attribute or "kit"
    if not _MODULE.match(module_name) or not all(p.isidentifier() for p in attribute.split(".")):
        raise AppError(f"APP must look like module:attribute (e.g. myapp.tasks:kit), got {spec!r}")
    return module_name, attribute


def import_module(module_name: str, spec: str) -> ModuleType:
    """The module, importable from the current directory; a missing one is AppError."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise AppError(
                f"cannot import {module_name!r} (from {spec!r}): no module named {exc.name!r}; "
                "run from the directory that holds it or add it to PYTHONPATH"
            ) from None
        raise CommandError(f"importing {module_name!r} failed: {exc}") from exc
    except TaskkitError:
        raise  # the module's own Kit.from_url failed: that error says it best
    except Exception as exc:
        raise CommandError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


def resolve(module: ModuleType, attribute: str, spec: str) -> Any:
    """Follow the dotted ``attribute`` from ``module``."""
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise AppError(f"{spec!r}: {module.__name__} has no attribute {attribute!r}") from None
    return value


def _is_handler(value: object) -> bool:
    return not isinstance(value, type) and all(
        callable(getattr(value, name, None)) for name in _HANDLER_METHODS
    )


def _as_target(spec: str, value: object) -> Kit | TaskHandler:
    if isinstance(value, Kit) or _is_handler(value):
        return cast(Kit | TaskHandler, value)
    if callable(value):
        made = value()
        if isinstance(made, Kit) or _is_handler(made):
            return cast(Kit | TaskHandler, made)
        value = made
    raise AppError(
        f"APP {spec} is a {type(value).__name__}, not a Kit or TaskHandler "
        "(or a function returning one)"
    )


def _threads_of(module: ModuleType) -> dict[str, int] | None:
    threads = getattr(module, "THREADS", None)
    if threads is None:
        return None
    if not isinstance(threads, Mapping) or not all(
        isinstance(g, str) and isinstance(n, int) and not isinstance(n, bool)
        for g, n in threads.items()
    ):
        raise AppError(
            f"{module.__name__}.THREADS must map group names to thread counts, "
            f"e.g. {{'default': 4}}; got {threads!r}"
        )
    return dict(threads)


def _schedule_of(value: object, where: str) -> ScheduleEntriesCompatMapping | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return cast(ScheduleEntriesCompatMapping, value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return cast(ScheduleEntriesCompatMapping, {"default": list(value)})
    raise AppError(
        f"{where} must be a list of schedule entries or a dict of named lists, "
        f"got {type(value).__name__}"
    )


def with_shutdown_timeout(settings: WorkerSettings, seconds: float | None) -> WorkerSettings:
    """``settings`` with another shutdown timeout, when one is given."""
    return settings if seconds is None else replace(settings, shutdown_timeout=seconds)


def with_metrics(settings: WorkerSettings, port: int | None, address: str) -> WorkerSettings:
    """``settings`` serving metrics on ``port`` (at ``address``), when a port is given."""
    if port is None:
        return settings
    return replace(settings, metrics_port=port, metrics_address=address)
