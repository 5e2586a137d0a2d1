"""Capability requirements, declared on the kit's tests.

A test that needs a capability says so where it is written::

    @requires("push_wakeups")
    def test_watchers_hear_of_put_tasks(self, backend): ...

and a test of what a backend *without* a capability must do says::

    @lacking("transactional_enqueue")
    def test_transactional_enqueue_needs_the_capability(self, kit): ...

Both are pytest markers (``taskkit_requires`` and ``taskkit_lacking``),
read before the test runs by the kit's pytest plugin, which compares them
with the capabilities of the backend under test. A test that does not apply
is skipped, and its skip is reported at the test itself, naming the test
and the capability: ``pytest -ra`` prints

    SKIPPED [1] .../coordination.py:61: TestBackend::test_watchers_hear_of_put_tasks[memory]
    needs wake-ups pushed when a task is put (capability push_wakeups), which memory:// lacks

rather than the line of some helper that raised the skip. Requirements are
never decided by a backend's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import pytest

from ..backend import Capabilities

CAPABILITY_SENTENCES = {
    "multi_process": "worker processes sharing the backend (capability multi_process)",
    "push_wakeups": "wake-ups pushed when a task is put (capability push_wakeups)",
    "transactional_enqueue": "enqueue inside an application transaction "
    "(capability transactional_enqueue)",
    "server_clock": "leases timed by the server's clock (capability server_clock)",
    "priorities": "claims in priority order (capability priorities)",
    "unique_tasks": "puts that honour unique keys atomically (capability unique_tasks)",
}
"""Each capability in words, as skip reasons show it."""

REQUIRES = "taskkit_requires"
LACKING = "taskkit_lacking"
MARKERS = {
    REQUIRES: "taskkit_requires(*capabilities): the kit test runs only where the backend has them",
    LACKING: "taskkit_lacking(*capabilities): the kit test runs only where the backend lacks them",
}

Check = Callable[[pytest.FixtureRequest], None]
REFUSAL_CHECKS: dict[str, Check] = {}
"""What the runtime must do without a capability, checked before such a test skips."""


# pytest.skip.Exception is pytest's public name for its skip exception; mypy cannot
# see through the attribute to the class behind it.
class CapabilityMissing(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """A kit test skipped because the backend's capabilities do not fit it.

    The kit's plugin reports such a skip at the test's own location.
    """


def _checked(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` if each is a field of Capabilities; a typo fails when the tests are collected."""
    given = tuple(names)
    known = {field.name for field in dataclasses.fields(Capabilities)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown capability {unknown}; known: {', '.join(sorted(known))}")
    return given


def requires(*capabilities: str) -> pytest.MarkDecorator:
    """Mark a test to run only on backends that have every one of ``capabilities``."""
    return pytest.mark.taskkit_requires(*_checked(capabilities))


def lacking(*capabilities: str) -> pytest.MarkDecorator:
    """Mark a test to run only on backends that lack every one of ``capabilities``."""
    return pytest.mark.taskkit_lacking(*_checked(capabilities))


def refused_without(capability: str) -> Callable[[Check], Check]:
    """Register ``check`` as what must happen when a test needs ``capability`` that is missing."""

    def register(check: Check) -> Check:
        REFUSAL_CHECKS[_checked([capability])[0]] = check
        return check

    return register


def declared(node: pytest.Item, marker: str) -> list[str]:
    """Every capability named by ``marker`` on the test, its class and its module."""
    return [name for mark in node.iter_markers(marker) for name in mark.args]


def unmet(node: pytest.Item, capabilities: Capabilities) -> tuple[list[str], list[str]]:
    """(required capabilities the backend lacks, lacking-capabilities the backend has)."""
    missing = [n for n in declared(node, REQUIRES) if not getattr(capabilities, n)]
    present = [n for n in declared(node, LACKING) if getattr(capabilities, n)]
    return missing, present


def skip_unless_fit(request: pytest.FixtureRequest, capabilities: Capabilities) -> None:
    """Skip the requesting test when its declared requirements do not fit ``capabilities``."""
    missing, present = unmet(request.node, capabilities)
    scheme = f"{request.getfixturevalue('taskkit_url').partition(':')[0]}://"
    if missing:
        checks = [REFUSAL_CHECKS[name] for name in missing if name in REFUSAL_CHECKS]
        for check in checks:
            check(request)
        note = "; the refusal without it was checked instead" if checks else ""
        raise CapabilityMissing(f"{_needs(missing)}, which {scheme} lacks{note}")
    if present:
        raise CapabilityMissing(
            f"{_without(present)}; {scheme} has it, and its own tests cover that case"
        )


def _needs(missing: list[str]) -> str:
    return "needs " + " and ".join(CAPABILITY_SENTENCES[name] for name in missing)


def _without(present: list[str]) -> str:
    return "checks a backend without " + " and ".join(CAPABILITY_SENTENCES[n] for n in present)


def require(capabilities: Capabilities, name: str) -> None:
    """Skip the running test unless the backend has capability ``name``.

    The imperative twin of :func:`requires`, for a test that decides late.
    """
    if not getattr(capabilities, name):
        raise CapabilityMissing(f"{_needs([name])}, which the backend lacks")
