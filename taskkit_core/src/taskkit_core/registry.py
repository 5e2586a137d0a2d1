"""The registry of URL schemes: which installed distribution serves which scheme.

Each plugin's ``taskkit_register_backends(registry)`` hook (see
:mod:`~taskkit_core.hookspecs`) adds its schemes to a
:class:`BackendRegistry` with ``registry.add(...)``; :mod:`~taskkit_core.plugins`
loads the plugins and fills it, :mod:`~taskkit_core.opening` opens URLs
through it. A scheme claimed by two distributions is refused, naming both.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .backend import Capabilities, Connection
from .errors import PluginError, SchemeConflictError

if TYPE_CHECKING:  # the names that moved in 0.4 (see __getattr__), typed for the checker
    from .names import check_namespace
    from .opening import connect, describe_open_error, drop, lookup_backend, migrate
    from .plugins import (
        ENTRY_POINT_GROUP,
        BackendInfo,
        PluginFailure,
        Plugins,
        get_plugins,
        list_backends,
        load_plugins,
        plugin_failures,
        reset_plugins,
    )
    from .url import scrub_password

__all__ = [
    "ENTRY_POINT_GROUP",
    "FIRST_PARTY_EXTRAS",
    "BackendEntry",
    "BackendInfo",
    "BackendRegistry",
    "Dropper",
    "Migrator",
    "Opener",
    "PluginFailure",
    "Plugins",
    "Source",
    "check_namespace",
    "connect",
    "describe_open_error",
    "drop",
    "get_plugins",
    "install_hint",
    "list_backends",
    "load_plugins",
    "lookup_backend",
    "migrate",
    "plugin_failures",
    "reset_plugins",
    "scrub_password",
]

Opener = Callable[[str, Mapping[str, Any]], Connection]
"""Opens a URL with options: ``opener(url, options) -> Connection``."""

Migrator = Callable[[str, Mapping[str, Any], bool], str | None]
"""``migrate(url, options, sql_only)``: creates or upgrades the storage.

With ``sql_only`` it changes nothing and returns the DDL it would run.
Returns a short human-readable report (or None).
"""

Dropper = Callable[[str, Mapping[str, Any]], None]
"""``drop(url, options)``: removes the namespace's storage (tables) entirely."""

# First-party schemes and the extra of the `taskkit` distribution that serves them.
FIRST_PARTY_EXTRAS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgres",
    "postgresql+psycopg": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mysql+pymysql": "mysql",
    "mysql+mysqldb": "mysql",
    "mariadb": "mysql",
    "mariadb+pymysql": "mysql",
    "mariadb+mysqldb": "mysql",
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "redis+sentinel": "redis",
    "redis+cluster": "redis",
}


def install_hint(scheme: str) -> str:
    """``'; install it with: pip install "taskkit[x]"'`` for a first-party scheme, else ''."""
    extra = FIRST_PARTY_EXTRAS.get(scheme)
    return f'; install it with: pip install "taskkit[{extra}]"' if extra else ""


@dataclass(frozen=True)
class Source:
    """The installed distribution a plugin came from."""

    distribution: str
    version: str


@dataclass(frozen=True)
class BackendEntry:
    """One URL scheme served by one installed distribution."""

    scheme: str
    opener: Opener = field(repr=False)
    capabilities: Capabilities
    migrate: Migrator | None = field(default=None, repr=False)
    drop: Dropper | None = field(default=None, repr=False)
    description: str = ""
    distribution: str = ""
    version: str = ""
    drivers: Mapping[str, str] = field(default_factory=dict)


class BackendRegistry:
    """The schemes every loaded plugin added; given to ``taskkit_register_backends``."""

    def __init__(self) -> None:
        self._entries: dict[str, BackendEntry] = {}
        self._source = Source("", "")

    def add(
        self,
        scheme: str,
        opener: Opener,
        *,
        capabilities: Capabilities,
        migrate: Migrator | None = None,
        drop: Dropper | None = None,
        description: str = "",
        drivers: Mapping[str, str] | None = None,
    ) -> None:
        """Serve URLs of ``scheme`` with ``opener``.

        ``migrate`` creates or upgrades the backend's storage (``taskkit
        migrate``) and ``drop`` removes it (the conformance kit cleans up
        with it); leave them None when the backend needs no storage set-up.
        ``drivers`` maps each module the opener imports to what installs it
        (``{"psycopg": "taskkit[postgres]"}``): ``taskkit backends`` lists
        the scheme as usable only when every such module can be found, and
        otherwise prints ``pip install "<what installs it>"``. The modules
        are looked up, never imported, so listing backends stays cheap.
        """
        scheme = scheme.lower()
        _check_backend(scheme, opener, capabilities, migrate, drop)
        if not isinstance(drivers or {}, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in (drivers or {}).items()
        ):
            raise PluginError(f"{scheme}://: drivers must map module names to requirements")
        existing = self._entries.get(scheme)
        if existing is not None:
            raise SchemeConflictError(
                f"the URL scheme {scheme!r} is claimed by two installed distributions: "
                f"{existing.distribution} and {self._source.distribution}; uninstall one"
            )
        self._entries[scheme] = BackendEntry(
            scheme=scheme,
            opener=opener,
            capabilities=capabilities,
            migrate=migrate,
            drop=drop,
            description=description,
            distribution=self._source.distribution,
            version=self._source.version,
            drivers=dict(drivers or {}),
        )

    def entries(self) -> list[BackendEntry]:
        return sorted(self._entries.values(), key=lambda e: e.scheme)

    def get(self, scheme: str) -> BackendEntry | None:
        return self._entries.get(scheme)

    def _set_source(self, source: Source) -> None:
        self._source = source


def _check_backend(
    scheme: str, opener: object, capabilities: object, migrate: object, drop: object
) -> None:
    """PluginError unless ``registry.add`` was given a usable scheme and callables."""
    if not re.fullmatch(r"[a-z][a-z0-9+.\-]*", scheme):
        raise PluginError(
            f"invalid URL scheme {scheme!r}: use a letter, then letters, digits, '+', '-' or '.'"
        )
    if not isinstance(capabilities, Capabilities):
        raise PluginError(
            f"{scheme}://: capabilities must be a taskkit_core.Capabilities, got {capabilities!r}"
        )
    for name, value in (("opener", opener), ("migrate", migrate), ("drop", drop)):
        if not (callable(value) or (value is None and name != "opener")):
            raise PluginError(f"{scheme}://: {name} must be callable, got {value!r}")


MOVED_IN_0_4 = {
    "check_namespace": "names",
    "scrub_password": "url",
    "connect": "opening",
    "migrate": "opening",
    "drop": "opening",
    "lookup_backend": "opening",
    "describe_open_error": "opening",
    "ENTRY_POINT_GROUP": "plugins",
    "BackendInfo": "plugins",
    "PluginFailure": "plugins",
    "Plugins": "plugins",
    "load_plugins": "plugins",
    "get_plugins": "plugins",
    "reset_plugins": "plugins",
    "list_backends": "plugins",
    "plugin_failures": "plugins",
}
"""Names this module held in taskkit-core 0.3, and the module that holds each now."""


def __getattr__(name: str) -> Any:
    """Serve a name that moved in 0.4 from its new module, with a DeprecationWarning.

    Keeps plugins written for taskkit-core 0.3 (which imported these from
    here) working for one minor version.
    """
    module = MOVED_IN_0_4.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"taskkit_core.registry.{name} moved to taskkit_core.{module}.{name} in "
        "taskkit-core 0.4; import it from there",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(import_module(f"taskkit_core.{module}"), name)
