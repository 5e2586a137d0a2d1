"""Where observers come from, and the start and stop of worker runtimes.

Observers come from three places, all loaded into the plugin manager of
``taskkit_core.plugins`` and handed to the :data:`~.hub.hub`:

- the ``taskkit`` entry point group, like backends (installing the
  distribution is all it takes);
- ``TASKKIT_OBSERVERS``: module names, comma-separated, loaded in every
  process that loads plugins; worker processes inherit the variable, so
  this is how an observer reaches every worker without an entry point;
- :func:`register_observer`, from code (``taskkit_core.observers.otel.instrument``
  uses it and adds its module to ``TASKKIT_OBSERVERS`` for worker
  processes started afterwards).

The Prometheus observer is the one switched on by the worker's settings:
a runtime whose ``WorkerSettings.metrics_port`` is set registers it when
it starts.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

from .hub import WorkerLike, hub

if TYPE_CHECKING:
    from ..plugins import Plugins

ENV = "TASKKIT_OBSERVERS"


def attach_observers(plugins: Plugins) -> None:
    """Load the modules named in TASKKIT_OBSERVERS, then let the hub call every observer."""
    from ..plugins import PluginFailure, check_hooks, logger

    for module in _env_modules():
        if plugins.manager.has_plugin(_name(module)):
            continue
        try:
            plugins.manager.register(importlib.import_module(module), name=_name(module))
            check_hooks(plugins.manager, plugins.manager.get_plugin(_name(module)))
        except Exception as exc:  # a broken observer must not stop the worker
            error = f"{type(exc).__name__}: {exc}"
            plugins.failures.append(PluginFailure(f"{ENV}={module}", module, error))
            logger.error("taskkit observer %s (from %s) failed to load: %s", module, ENV, error)
    hub.attach(plugins.manager)


def register_observer(plugin: object, name: str | None = None) -> None:
    """Make ``plugin`` (a module or object with ``@hookimpl`` functions) an observer here.

    Registering the same plugin (or name) twice does nothing. Raises
    PluginError for a plugin that implements hooks taskkit does not know.
    """
    from ..plugins import check_hooks, get_plugins

    manager = get_plugins().manager
    if manager.is_registered(plugin) or (name is not None and manager.has_plugin(name)):
        return
    manager.register(plugin, name=name)
    check_hooks(manager, plugin)
    hub.attach(manager)


def unregister_observer(plugin: object) -> None:
    """Stop calling ``plugin`` (registered with :func:`register_observer`)."""
    from ..plugins import get_plugins

    manager = get_plugins().manager
    if manager.is_registered(plugin):
        manager.unregister(plugin)
        hub.attach(manager)


def export_observer(module: str) -> None:
    """Add ``module`` to TASKKIT_OBSERVERS, so worker processes started from now load it."""
    if module not in _env_modules():
        os.environ[ENV] = ",".join([*_env_modules(), module])


def runtime_started(runtime: WorkerLike) -> None:
    """A worker runtime starts: switch on what its settings ask for, then tell observers."""
    from ..plugins import get_plugins

    get_plugins()  # a runtime built on a backend opened without connect() still gets observers
    if runtime.settings.metrics_port is not None:
        from .prometheus import enable

        enable()
    if hub.active:
        hub.worker_changed("taskkit_worker_started", runtime)


def runtime_stopped(runtime: WorkerLike) -> None:
    """A worker runtime finished its shutdown (its backend is still open)."""
    if hub.active:
        hub.worker_changed("taskkit_worker_stopped", runtime)


def _env_modules() -> list[str]:
    return [part.strip() for part in os.environ.get(ENV, "").split(",") if part.strip()]


def _name(module: str) -> str:
    return f"{ENV}:{module}"


__all__ = [
    "ENV",
    "attach_observers",
    "export_observer",
    "register_observer",
    "runtime_started",
    "runtime_stopped",
    "unregister_observer",
]
