"""Fixtures of the plugin tests: the clean virtualenv of venv.py, made once per session."""

from __future__ import annotations

import pytest

from .venv import Venv, make_venv


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """The venv with taskkit-core and taskkit-acme installed from their folders."""
    return make_venv(tmp_path_factory.mktemp("plugin-venv"))
