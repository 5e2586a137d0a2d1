"""Loading plugins: pluggy plugins from the ``taskkit`` entry point group.

Each installed distribution that declares an entry point in the group
``taskkit`` is a plugin. The core calls each plugin's
``taskkit_register_backends(registry)`` hook, in which the plugin adds
the URL schemes it serves to a :class:`~taskkit_core.registry.BackendRegistry`;
a plugin may implement observer hooks instead or as well
(:mod:`taskkit_core.observers.hookspecs`). The plugins are loaded on first
use (never at import) and cached for the life of the process; a plugin
that fails to load is reported with its distribution name instead of
being ignored.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

import pluggy

from . import hookspecs
from .errors import PluginError, SchemeConflictError, UnknownBackendError
from .observers import hookspecs as observer_hookspecs
from .registry import BackendEntry, BackendRegistry, Source, install_hint
from .url import BackendURL

logger = logging.getLogger("taskkit.registry")

ENTRY_POINT_GROUP = "taskkit"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    entry_point: str
    distribution: str
    error: str


@dataclass
class Plugins:
    """The loaded plugin manager, the registry it filled, and the failures."""

    manager: pluggy.PluginManager
    registry: BackendRegistry
    failures: list[PluginFailure]

    def lookup(self, url: BackendURL) -> BackendEntry:
        entry = self.registry.get(url.scheme)
        if entry is None:
            raise UnknownBackendError(self._unknown_scheme_message(url))
        return entry

    def _unknown_scheme_message(self, url: BackendURL) -> str:
        installed = ", ".join(e.scheme for e in self.registry.entries()) or "none"
        message = f"no installed backend serves {url.scheme}:// (URL {url.masked()!r})"
        message += install_hint(url.scheme)
        message += f"; installed schemes: {installed}"
        if self.failures:
            broken = ", ".join(f.distribution for f in self.failures)
            message += f"; plugins that failed to load: {broken} (see `taskkit backends`)"
        return message


def _distribution_of(ep: EntryPoint) -> Source:
    dist = ep.dist
    if dist is None:
        return Source(f"<entry point {ep.name}>", "")
    return Source(dist.metadata["Name"] or ep.name, dist.version)


def _unknown_hooks(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    callers = manager.get_hookcallers(plugin) or []
    return [caller.name for caller in callers if not caller.has_spec()]


def new_manager() -> pluggy.PluginManager:
    """A plugin manager that knows the backend and the observer hooks."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.add_hookspecs(observer_hookspecs)
    return manager


def check_hooks(manager: pluggy.PluginManager, plugin: object) -> None:
    """PluginError (after unregistering it) when ``plugin`` implements an unknown hook."""
    unknown = _unknown_hooks(manager, plugin)
    if unknown:
        manager.unregister(plugin)
        raise PluginError(f"implements unknown hook(s) {', '.join(unknown)}")


def load_plugins(eps: Iterable[EntryPoint] | None = None) -> Plugins:
    """Load every ``taskkit`` entry point and let each plugin register its schemes."""
    manager = new_manager()
    registry = BackendRegistry()
    failures: list[PluginFailure] = []
    loaded: list[tuple[object, Source]] = []
    for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
        source = _distribution_of(ep)
        try:
            plugin = ep.load()
            manager.register(plugin, name=f"{source.distribution}:{ep.name}")
            check_hooks(manager, plugin)
        except Exception as exc:  # a broken plugin must not hide the others
            failures.append(_failure_of(source, f"{ep.name} = {ep.value}", exc))
            continue
        loaded.append((plugin, source))
    for plugin, source in loaded:
        # A plugin of observer hooks only has no scheme to register; one with no
        # hook at all most likely forgot @hookimpl on taskkit_register_backends.
        observer_only = manager.get_hookcallers(plugin) and not _implements(
            manager, plugin, "taskkit_register_backends"
        )
        if not observer_only:
            _register_backends_of(manager, registry, plugin, source, failures)
    return Plugins(manager=manager, registry=registry, failures=failures)


def _implements(manager: pluggy.PluginManager, plugin: object, hook: str) -> bool:
    return any(caller.name == hook for caller in manager.get_hookcallers(plugin) or [])


def _register_backends_of(
    manager: pluggy.PluginManager,
    registry: BackendRegistry,
    plugin: object,
    source: Source,
    failures: list[PluginFailure],
) -> None:
    others = [p for p in manager.get_plugins() if p is not plugin]
    call = manager.subset_hook_caller("taskkit_register_backends", remove_plugins=others)
    registry._set_source(source)
    before = len(registry.entries())
    try:
        call(registry=registry)
    except SchemeConflictError:
        raise  # a scheme claimed twice is an error of the installation, not of one plugin
    except Exception as exc:
        failures.append(_failure_of(source, "taskkit_register_backends", exc))
        return
    if len(registry.entries()) == before:
        nothing = PluginError(
            "registered no URL scheme (is taskkit_register_backends marked @hookimpl?)"
        )
        failures.append(_failure_of(source, "taskkit_register_backends", nothing))


def _failure_of(source: Source, where: str, exc: BaseException) -> PluginFailure:
    failure = PluginFailure(
        entry_point=where,
        distribution=source.distribution,
        error=f"{type(exc).__name__}: {exc}",
    )
    logger.error(
        "taskkit plugin from %s (%s) failed to load: %s",
        failure.distribution,
        where,
        failure.error,
    )
    return failure


@functools.cache
def get_plugins() -> Plugins:
    """The plugins of this process, loaded on first use; their observers go to work."""
    from .observers.setup import attach_observers

    plugins = load_plugins()
    attach_observers(plugins)
    return plugins


def reset_plugins() -> None:
    """Forget the loaded plugins so the next use loads them again (tests, after installs)."""
    from .observers.hub import hub

    get_plugins.cache_clear()
    hub.detach()


@dataclass(frozen=True)
class BackendInfo:
    """An installed backend, as ``taskkit backends`` shows it."""

    scheme: str
    distribution: str
    version: str
    capabilities: list[str]
    description: str


def list_backends() -> list[BackendInfo]:
    """Every installed scheme with its distribution, version and capabilities."""
    return [
        BackendInfo(
            scheme=e.scheme,
            distribution=e.distribution,
            version=e.version,
            capabilities=e.capabilities.names(),
            description=e.description,
        )
        for e in get_plugins().registry.entries()
    ]


def plugin_failures() -> list[PluginFailure]:
    """Plugins that failed to load in this process."""
    return list(get_plugins().failures)
