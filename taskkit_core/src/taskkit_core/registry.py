"""Finding backends: pluggy plugins loaded from the ``taskkit`` entry point group.

Each installed distribution that declares an entry point in the group
``taskkit`` is a plugin. The core calls each plugin's
``taskkit_register_backends(registry)`` hook, in which the plugin adds
the URL schemes it serves. The registry is built on first use (never at
import), refuses a scheme claimed by two distributions, and reports a
plugin that fails to load with its distribution name instead of ignoring
it.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any
from urllib.parse import quote

import pluggy

from . import hookspecs
from .backend import Capabilities, Connection
from .errors import (
    BackendUnavailable,
    ConfigurationError,
    PluginError,
    SchemeConflictError,
    TaskkitError,
    UnknownBackendError,
)
from .url import BackendURL, parse_url, url_password

logger = logging.getLogger("taskkit.registry")

ENTRY_POINT_GROUP = "taskkit"

Opener = Callable[[str, Mapping[str, Any]], Connection]
"""Opens a URL with options: ``opener(url, options) -> Connection``."""

Migrator = Callable[[str, Mapping[str, Any], bool], str | None]
"""``migrate(url, options, sql_only)``: creates or upgrades the storage.

With ``sql_only`` it changes nothing and returns the DDL it would run.
Returns a short human-readable report (or None).
"""

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

_NAMESPACE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


def check_namespace(namespace: object) -> str:
    """``namespace`` if it is a safe table or key prefix, else ConfigurationError.

    1 to 41 characters: a letter or underscore, then letters, digits or
    underscores. Backends call this before the namespace reaches storage.
    """
    if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
        raise ConfigurationError(
            f"namespace {namespace!r} is not allowed: use 1-41 letters, digits or "
            "underscores, starting with a letter or underscore"
        )
    return namespace


Dropper = Callable[[str, Mapping[str, Any]], None]
"""``drop(url, options)``: removes the namespace's storage (tables) entirely."""


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


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    entry_point: str
    distribution: str
    error: str


@dataclass(frozen=True)
class _Source:
    distribution: str
    version: str


class BackendRegistry:
    """The schemes every loaded plugin added; given to ``taskkit_register_backends``."""

    def __init__(self) -> None:
        self._entries: dict[str, BackendEntry] = {}
        self._source = _Source("", "")

    def add(
        self,
        scheme: str,
        opener: Opener,
        *,
        capabilities: Capabilities,
        migrate: Migrator | None = None,
        drop: Dropper | None = None,
        description: str = "",
    ) -> None:
        """Serve URLs of ``scheme`` with ``opener``.

        ``migrate`` creates or upgrades the backend's storage (``taskkit
        migrate``) and ``drop`` removes it (the conformance kit cleans up
        with it); leave them None when the backend needs no storage set-up.
        """
        scheme = scheme.lower()
        _check_backend(scheme, opener, capabilities, migrate, drop)
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
        )

    def entries(self) -> list[BackendEntry]:
        return sorted(self._entries.values(), key=lambda e: e.scheme)

    def get(self, scheme: str) -> BackendEntry | None:
        return self._entries.get(scheme)

    def _set_source(self, source: _Source) -> None:
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
        extra = FIRST_PARTY_EXTRAS.get(url.scheme)
        if extra is not None:
            message += f'; install it with: pip install "taskkit[{extra}]"'
        message += f"; installed schemes: {installed}"
        if self.failures:
            broken = ", ".join(f.distribution for f in self.failures)
            message += f"; plugins that failed to load: {broken} (see `taskkit backends`)"
        return message


def _distribution_of(ep: EntryPoint) -> _Source:
    dist = ep.dist
    if dist is None:
        return _Source(f"<entry point {ep.name}>", "")
    return _Source(dist.metadata["Name"] or ep.name, dist.version)


def _unknown_hooks(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    callers = manager.get_hookcallers(plugin) or []
    return [caller.name for caller in callers if not caller.has_spec()]


def load_plugins(eps: Iterable[EntryPoint] | None = None) -> Plugins:
    """Load every ``taskkit`` entry point and let each plugin register its schemes."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    registry = BackendRegistry()
    failures: list[PluginFailure] = []
    loaded: list[tuple[object, _Source]] = []
    for ep in eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP):
        source = _distribution_of(ep)
        try:
            plugin = ep.load()
            manager.register(plugin, name=f"{source.distribution}:{ep.name}")
            unknown = _unknown_hooks(manager, plugin)
            if unknown:
                manager.unregister(plugin)
                raise PluginError(f"implements unknown hook(s) {', '.join(unknown)}")
        except Exception as exc:  # a broken plugin must not hide the others
            failures.append(_failure_of(source, f"{ep.name} = {ep.value}", exc))
            continue
        loaded.append((plugin, source))
    for plugin, source in loaded:
        _register_backends_of(manager, registry, plugin, source, failures)
    return Plugins(manager=manager, registry=registry, failures=failures)


def _register_backends_of(
    manager: pluggy.PluginManager,
    registry: BackendRegistry,
    plugin: object,
    source: _Source,
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


def _failure_of(source: _Source, where: str, exc: BaseException) -> PluginFailure:
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
    """The plugins of this process, loaded on first use."""
    return load_plugins()


def reset_plugins() -> None:
    """Forget the loaded plugins so the next use loads them again (tests, after installs)."""
    get_plugins.cache_clear()


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


def lookup_backend(url: str) -> tuple[BackendURL, BackendEntry]:
    """The parsed URL and the entry serving its scheme; no connection is made."""
    parsed = parse_url(url)
    return parsed, get_plugins().lookup(parsed)


def connect(url: str, **options: Any) -> Connection:
    """Open the backend and event bridge that serve ``url``.

    ``options`` go to the backend (``namespace`` is understood by all of
    them). Errors are one line without the URL's password: unknown scheme
    (UnknownBackendError, naming the installed schemes), malformed URL
    (ConfigurationError), missing driver or unreachable server
    (BackendUnavailable), missing schema (StorageNotReady).
    """
    parsed, entry = lookup_backend(url)
    try:
        return entry.opener(parsed.raw, options)
    except TaskkitError:
        raise
    except Exception as exc:
        error = describe_open_error(parsed, exc)
    # Raised outside the except block so the driver's exception, which may
    # quote the URL with its password, is not chained as __context__.
    raise error


def migrate(url: str, *, sql_only: bool = False, **options: Any) -> str | None:
    """Create or upgrade the storage ``url`` points at; with ``sql_only``, return the DDL."""
    parsed, entry = lookup_backend(url)
    if entry.migrate is None:
        return None
    try:
        return entry.migrate(parsed.raw, options, sql_only)
    except TaskkitError:
        raise
    except Exception as exc:
        error = describe_open_error(parsed, exc)
    raise error


def drop(url: str, **options: Any) -> None:
    """Remove the storage of the namespace ``url`` and ``options`` name (tables, keys)."""
    parsed, entry = lookup_backend(url)
    if entry.drop is None:
        return
    try:
        entry.drop(parsed.raw, options)
        return
    except TaskkitError:
        raise
    except Exception as exc:
        error = describe_open_error(parsed, exc)
    raise error


def describe_open_error(url: BackendURL, exc: BaseException) -> TaskkitError:
    """A one-line, password-free error for a failure while opening ``url``."""
    password_free = scrub_password(url, str(exc))
    if isinstance(exc, ImportError):
        extra = FIRST_PARTY_EXTRAS.get(url.scheme)
        hint = f'; install it with: pip install "taskkit[{extra}]"' if extra else ""
        return BackendUnavailable(
            f"the driver for {url.scheme}:// is not installed ({exc.name or exc}){hint}"
        )
    if isinstance(exc, ValueError | TypeError):
        return ConfigurationError(f"bad backend URL or option for {url.masked()!r}")
    return BackendUnavailable(
        f"cannot open {url.masked()!r}: {type(exc).__name__}: {_first_line(password_free)}"
    )


_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*):[^\s'\"]*@")


def scrub_password(url: BackendURL, text: str) -> str:
    """``text`` with the URL, and the URL's password in any spelling, masked.

    Only URL credentials are touched: mask_url over the whole text would
    also turn an unrelated ``a: b@c`` in a message into ``a:***@c``.
    """
    text = _CREDENTIALS.sub(r"\1:***@", text.replace(url.raw, url.masked()))
    password = url_password(url.raw)
    if password:
        for spelling in {password, quote(password, safe=""), quote(password)}:
            text = text.replace(spelling, "***")
    return text


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
