"""Choosing a backend by URL: errors name the installed schemes and never the password."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from taskkit_core.backend import Capabilities, Connection
from taskkit_core.errors import BackendUnavailable, ConfigurationError, UnknownBackendError
from taskkit_core.names import check_namespace
from taskkit_core.opening import lookup_backend
from taskkit_core.plugins import list_backends, load_plugins
from taskkit_core.registry import BackendRegistry
from taskkit_core.testing import RecordingHandler

import taskkit_core
from taskkit_core import Kit

SECRET = "secret"


def only_memory() -> list[EntryPoint]:
    return [EntryPoint("memory", "taskkit_core.memory.plugin", "taskkit")]


def test_unknown_scheme_lists_the_installed_ones() -> None:
    with pytest.raises(UnknownBackendError) as info:
        Kit.from_url("nosuch://x", RecordingHandler())
    message = str(info.value)
    assert "nosuch://" in message
    installed = [b.scheme for b in list_backends()]
    assert "memory" in installed
    assert f"installed schemes: {', '.join(installed)}" in message


def test_a_missing_first_party_backend_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(taskkit_core.plugins, "get_plugins", lambda: load_plugins(only_memory()))
    with pytest.raises(UnknownBackendError) as info:
        Kit.from_url(f"postgresql://u:{SECRET}@127.0.0.1/db", RecordingHandler())
    message = str(info.value)
    assert 'pip install "taskkit[postgres]"' in message
    assert "installed schemes: memory" in message
    assert "postgresql://u:***@127.0.0.1/db" in message
    assert SECRET not in message
    assert SECRET not in repr(info.value)
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("scheme", "extra"),
    [("sqlite", "sqlite"), ("mysql+pymysql", "mysql"), ("mariadb", "mysql"), ("rediss", "redis")],
)
def test_every_first_party_scheme_has_its_hint(
    monkeypatch: pytest.MonkeyPatch, scheme: str, extra: str
) -> None:
    monkeypatch.setattr(taskkit_core.plugins, "get_plugins", lambda: load_plugins(only_memory()))
    with pytest.raises(UnknownBackendError, match=rf'pip install "taskkit\[{extra}\]"'):
        taskkit_core.connect(f"{scheme}://host/x")


def test_an_unknown_scheme_makes_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for url in ("foo://x", "http://x", f"nosuch://u:{SECRET}@h"):
        with pytest.raises(UnknownBackendError):
            taskkit_core.connect(url)


def _failing_opener(url: str, options: Mapping[str, Any]) -> Connection:
    raise OSError(f"could not reach {url} (password {SECRET}, encoded s%65cret)")


def test_opener_errors_are_one_line_without_password_or_chained_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugins = load_plugins(only_memory())
    plugins.registry.add("leaky", _failing_opener, capabilities=Capabilities())
    monkeypatch.setattr(taskkit_core.plugins, "get_plugins", lambda: plugins)
    with pytest.raises(BackendUnavailable) as info:
        taskkit_core.connect(f"leaky://user:{SECRET}@host/db")
    error = info.value
    assert "\n" not in str(error)
    assert SECRET not in str(error)
    assert error.__cause__ is None and error.__context__ is None


def test_memory_registers_through_the_public_hook() -> None:
    (memory,) = [b for b in list_backends() if b.scheme == "memory"]
    assert memory.distribution == "taskkit-core"
    assert memory.capabilities == ["push_wakeups", "priorities", "unique_tasks"]
    _, entry = lookup_backend("memory://")
    assert entry.capabilities.multi_process is False


@pytest.mark.parametrize(
    "namespace",
    ["", "1abc", "a b", "a;b", "a.b", "a'b", "x" * 42, "tasks--", None, 3],
)
def test_unsafe_namespaces_are_refused(namespace: Any) -> None:
    with pytest.raises(ConfigurationError, match="namespace"):
        check_namespace(namespace)
    with pytest.raises(ConfigurationError, match="namespace"):
        taskkit_core.connect("memory://", namespace=namespace)


def test_unknown_memory_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="pool_size"):
        taskkit_core.connect("memory://", pool_size=3)


def test_a_scheme_can_be_added_once() -> None:
    registry = BackendRegistry()
    registry.add("one", _failing_opener, capabilities=Capabilities())
    with pytest.raises(taskkit_core.PluginError, match="claimed by two"):
        registry.add("one", _failing_opener, capabilities=Capabilities())


def test_a_plugin_written_for_0_3_still_imports_the_moved_helpers() -> None:
    with pytest.warns(DeprecationWarning, match=r"moved to taskkit_core\.names\.check_namespace"):
        from taskkit_core.registry import check_namespace as moved
    assert moved is check_namespace
