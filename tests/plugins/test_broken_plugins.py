"""A broken plugin is reported at load, with its distribution's name, never ignored.

Each test builds fake installed distributions in a temporary directory (a
``*.dist-info`` folder with METADATA and entry_points.txt, next to the
plugin module) and loads their ``taskkit`` entry points with
``taskkit_core.plugins.load_plugins``, the function the core itself uses.
"""

from __future__ import annotations

import itertools
import logging
import textwrap
from collections.abc import Callable
from importlib.metadata import EntryPoint, distributions
from pathlib import Path

import pytest
from taskkit_core.errors import PluginError
from taskkit_core.plugins import ENTRY_POINT_GROUP, PluginFailure, load_plugins

GOOD = """
from taskkit_core import Capabilities, hookimpl

def _open(url, options):
    raise NotImplementedError("never opened in these tests")

@hookimpl
def taskkit_register_backends(registry):
    registry.add("{scheme}", _open, capabilities=Capabilities(multi_process=False))
"""

_serial = itertools.count()

Install = Callable[[str, str], list[EntryPoint]]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Installs a one-module distribution ``name`` into a fresh site directory.

    Returns the ``taskkit`` entry points of every distribution installed so
    far, as importlib.metadata reads them (each knows its distribution).
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def install(distribution: str, source: str) -> list[EntryPoint]:
        module = f"fake_taskkit_plugin_{next(_serial)}"  # never cached in sys.modules before
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{distribution.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nfake = {module}\n")
        return [
            ep
            for dist in distributions(path=[str(site)])
            for ep in dist.entry_points
            if ep.group == ENTRY_POINT_GROUP
        ]

    return install


def only_failure(failures: list[PluginFailure]) -> PluginFailure:
    assert len(failures) == 1, failures
    return failures[0]


def test_a_misspelt_hook_name_is_reported_with_the_distribution(install: Install) -> None:
    eps = install(
        "taskkit-typo",
        """
        from taskkit_core import hookimpl

        @hookimpl
        def taskkit_register_backend(registry):  # the s is missing
            registry.add("typo", None, capabilities=None)
        """,
    )
    plugins = load_plugins(eps)
    failure = only_failure(plugins.failures)
    assert failure.distribution == "taskkit-typo"
    assert "unknown hook(s) taskkit_register_backend" in failure.error
    assert plugins.registry.entries() == []


def test_a_wrong_argument_name_is_reported_with_the_distribution(install: Install) -> None:
    eps = install(
        "taskkit-badsig",
        """
        from taskkit_core import hookimpl

        @hookimpl
        def taskkit_register_backends(backends):  # the spec calls it registry
            backends.add("badsig", None, capabilities=None)
        """,
    )
    failure = only_failure(load_plugins(eps).failures)
    assert failure.distribution == "taskkit-badsig"
    assert "PluginValidationError" in failure.error
    assert "backends" in failure.error


def test_a_plugin_raising_while_registering_is_reported(install: Install) -> None:
    eps = install(
        "taskkit-raises",
        """
        from taskkit_core import hookimpl

        @hookimpl
        def taskkit_register_backends(registry):
            raise RuntimeError("no licence key found")
        """,
    )
    failure = only_failure(load_plugins(eps).failures)
    assert failure.distribution == "taskkit-raises"
    assert failure.entry_point == "taskkit_register_backends"
    assert failure.error == "RuntimeError: no licence key found"


def test_a_plugin_importing_a_missing_module_is_reported(install: Install) -> None:
    eps = install(
        "taskkit-nodriver",
        """
        import acme_driver_that_is_not_installed
        """,
    )
    failure = only_failure(load_plugins(eps).failures)
    assert failure.distribution == "taskkit-nodriver"
    assert "ModuleNotFoundError" in failure.error
    assert "acme_driver_that_is_not_installed" in failure.error


def test_a_hook_without_the_marker_is_reported(install: Install) -> None:
    eps = install(
        "taskkit-unmarked",
        """
        def taskkit_register_backends(registry):  # @hookimpl forgotten
            raise AssertionError("never called")
        """,
    )
    failure = only_failure(load_plugins(eps).failures)
    assert failure.distribution == "taskkit-unmarked"
    assert "registered no URL scheme" in failure.error


def test_a_scheme_claimed_by_two_distributions_names_both(install: Install) -> None:
    install("taskkit-first", GOOD.format(scheme="dup"))
    eps = install("taskkit-second", GOOD.format(scheme="dup"))
    with pytest.raises(PluginError) as error:
        load_plugins(eps)
    message = str(error.value)
    assert "'dup'" in message
    assert "taskkit-first" in message
    assert "taskkit-second" in message


def test_a_broken_plugin_does_not_hide_the_others(install: Install) -> None:
    install("taskkit-good", GOOD.format(scheme="good"))
    eps = install("taskkit-broken", "import acme_driver_that_is_not_installed\n")
    plugins = load_plugins(eps)
    assert [(e.scheme, e.distribution, e.version) for e in plugins.registry.entries()] == [
        ("good", "taskkit-good", "1.0")
    ]
    assert only_failure(plugins.failures).distribution == "taskkit-broken"


def test_load_failures_are_logged_on_the_registry_logger(
    install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    eps = install("taskkit-logged", "raise ImportError('cannot load the acme client')\n")
    with caplog.at_level(logging.ERROR, logger="taskkit.registry"):
        load_plugins(eps)
    (record,) = [r for r in caplog.records if r.name == "taskkit.registry"]
    assert "taskkit-logged" in record.getMessage()
    assert "cannot load the acme client" in record.getMessage()


def test_plugins_on_sys_path_are_found_without_being_passed_in(install: Install) -> None:
    install("taskkit-onpath", GOOD.format(scheme="onpath"))
    plugins = load_plugins()  # reads the `taskkit` entry points of sys.path, as the core does
    entry = plugins.registry.get("onpath")
    assert entry is not None
    assert entry.distribution == "taskkit-onpath"


def test_an_invalid_scheme_is_a_failure_of_that_plugin_only(install: Install) -> None:
    install("taskkit-good", GOOD.format(scheme="good"))
    eps = install("taskkit-underscore", GOOD.format(scheme="acme_db"))
    plugins = load_plugins(eps)
    assert [e.scheme for e in plugins.registry.entries()] == ["good"]
    failure = only_failure(plugins.failures)
    assert failure.distribution == "taskkit-underscore"
    assert "acme_db" in failure.error


def test_capabilities_that_are_not_capabilities_are_refused_at_load(install: Install) -> None:
    nocaps = GOOD.format(scheme="nocaps").replace("Capabilities(multi_process=False)", "None")
    eps = install("taskkit-nocaps", nocaps)
    plugins = load_plugins(eps)
    assert plugins.registry.entries() == []
    failure = only_failure(plugins.failures)
    assert failure.distribution == "taskkit-nocaps"
    assert "Capabilities" in failure.error
