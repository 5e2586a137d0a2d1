"""Which installed URL schemes can be used here, and what to install for the others.

A scheme is usable when every driver module its plugin declared
(``registry.add(..., drivers=...)``) can be found; the modules are looked
up with ``importlib.util.find_spec``, never imported. First-party schemes
whose distribution is not installed are reported with their extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from .plugins import get_plugins
from .registry import FIRST_PARTY_EXTRAS, BackendEntry

FIRST_PARTY_DISTRIBUTIONS = {"redis": "taskkit-redis"}
"""The distribution of each extra that is not taskkit-sql's."""


@dataclass(frozen=True)
class MissingBackend:
    """A scheme that cannot be used here: why, and the command that fixes it.

    ``missing_drivers`` is empty when the whole backend distribution is
    missing; ``install`` is empty when no pip line can help (sqlite3 is
    part of Python).
    """

    scheme: str
    distribution: str
    missing_drivers: list[str]
    install: str

    @property
    def reason(self) -> str:
        if not self.missing_drivers:
            return f"{self.distribution} is not installed"
        modules = ", ".join(self.missing_drivers)
        return f"{self.distribution} is installed, its driver ({modules}) is not"


def pip_line(requirement: str) -> str:
    """The exact command that installs ``requirement`` (empty for none)."""
    return f'pip install "{requirement}"' if requirement else ""


def missing_drivers(entry: BackendEntry) -> list[str]:
    """The driver modules of ``entry`` that cannot be found on this Python."""
    return [module for module in entry.drivers if not _found(module)]


def _found(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return False


def missing_backend(entry: BackendEntry) -> MissingBackend | None:
    """Why ``entry`` cannot be used here and what installs its drivers; None if it can."""
    missing = missing_drivers(entry)
    if not missing:
        return None
    requirements = sorted({entry.drivers[module] for module in missing} - {""})
    install = "pip install " + " ".join(f'"{r}"' for r in requirements) if requirements else ""
    return MissingBackend(entry.scheme, entry.distribution, missing, install)


def _not_installed(scheme: str, extra: str) -> MissingBackend:
    distribution = FIRST_PARTY_DISTRIBUTIONS.get(extra, "taskkit-sql")
    return MissingBackend(scheme, distribution, [], pip_line(f"taskkit[{extra}]"))


def split_backends() -> tuple[list[BackendEntry], list[MissingBackend]]:
    """The usable installed schemes, and every scheme that is not usable (first-party too)."""
    entries = get_plugins().registry.entries()
    usable = [e for e in entries if not missing_drivers(e)]
    missing = [m for e in entries if (m := missing_backend(e)) is not None]
    present = {e.scheme for e in entries}
    missing += [_not_installed(s, x) for s, x in FIRST_PARTY_EXTRAS.items() if s not in present]
    return usable, sorted(missing, key=lambda m: m.scheme)
