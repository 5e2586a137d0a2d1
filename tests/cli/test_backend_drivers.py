"""A plugin's declared driver modules decide whether its scheme is usable (drivers=)."""

from __future__ import annotations

import pytest
from taskkit_core.backend import Capabilities
from taskkit_core.errors import PluginError
from taskkit_core.registry import BackendRegistry
from taskkit_core.usable import missing_backend

from .support import taskkit


def opener(url: str, options: object) -> object:
    raise AssertionError("never opened: drivers are looked up, not imported")


def entry_with(drivers: dict[str, str]) -> BackendRegistry:
    registry = BackendRegistry()
    registry.add("acme", opener, capabilities=Capabilities(), drivers=drivers)  # type: ignore[arg-type]
    return registry


def test_a_scheme_whose_driver_is_missing_says_what_to_install() -> None:
    entry = entry_with({"json": "", "acme_no_such_driver": "taskkit-acme[fast]"}).entries()[0]
    missing = missing_backend(entry)
    assert missing is not None
    assert missing.missing_drivers == ["acme_no_such_driver"]
    assert missing.install == 'pip install "taskkit-acme[fast]"'


def test_a_scheme_whose_drivers_are_found_is_usable() -> None:
    assert missing_backend(entry_with({"json": ""}).entries()[0]) is None
    assert missing_backend(entry_with({}).entries()[0]) is None  # drivers= is optional


def test_drivers_must_map_module_names_to_requirements() -> None:
    with pytest.raises(PluginError, match="drivers must map module names"):
        entry_with(["psycopg"])  # type: ignore[arg-type]


def test_the_first_party_plugins_declare_their_drivers() -> None:
    listed = taskkit("backends", "--json").stdout
    assert '"scheme": "postgresql", ' in listed and '"drivers": ["psycopg"]' in listed
    assert '"drivers": ["redis"]' in listed and '"drivers": ["pymysql"]' in listed
