"""Fixtures of the plugin tests: the clean virtualenv of venv.py, made once per session."""

from __future__ import annotations

import pytest

from .venv import Venv, install_observer_example, make_core_venv, make_venv


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """The venv with taskkit-core and taskkit-acme installed from their folders."""
    return make_venv(tmp_path_factory.mktemp("plugin-venv"))


@pytest.fixture(scope="session")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A venv with taskkit-core alone (plus pytest), as a user of memory:// has."""
    return make_core_venv(tmp_path_factory.mktemp("core-venv"))


@pytest.fixture(scope="session")
def observer_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """taskkit-core, taskkit-acme and the example observer taskkit-lifecycle-log."""
    base = tmp_path_factory.mktemp("observer-venv")
    venv = make_venv(base)
    install_observer_example(venv, base)
    return venv
