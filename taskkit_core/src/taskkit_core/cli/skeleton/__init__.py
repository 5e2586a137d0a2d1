"""The files of a new backend plugin (``taskkit new-backend NAME``), rendered from templates.

The templates are the files under ``template/`` (shipped with taskkit-core
and read through importlib.resources), filled in with ``string.Template``:
``$name``, ``$scheme``, ``$package``, ``$distribution``, ``${Class}`` and
the rest of :func:`placeholders`. A path part ``taskkit_NAME`` becomes the
package's name and the ``.tmpl`` suffix is dropped. The method stubs come
from the installed protocols (see ``stubs``), so a skeleton always matches
the taskkit-core that wrote it.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from string import Template

from ...backend import Backend, Lock
from ...errors import ConfigurationError
from ...events import EventBridge
from ...names import check_namespace
from ...version import VERSION
from .stubs import Protocol, imports, stubs

NAME = re.compile(r"^[a-z][a-z0-9]{0,29}$")
TEMPLATES = resources.files(__name__) / "template"


def check_name(name: str) -> str:
    """``name`` if it can be a URL scheme and part of a package name; else ConfigurationError."""
    if not NAME.match(name):
        raise ConfigurationError(
            f"the backend name must be 1 to 30 lower-case letters and digits, starting with "
            f"a letter (it becomes the URL scheme name:// and the package taskkit_name), "
            f"got {name!r}"
        )
    return name


def core_requirement() -> str:
    """The taskkit-core range a new plugin declares: the minor series that wrote it."""
    major, minor = (int(part) for part in VERSION.split(".")[:2])
    return f"taskkit-core>={major}.{minor},<{major}.{minor + 1}"


def placeholders(name: str) -> dict[str, str]:
    """What each ``$placeholder`` of the templates becomes, for the backend ``name``."""
    backend, bridge, lock = (Protocol.of(p) for p in (Backend, EventBridge, Lock))
    cls = name.capitalize()
    closing = "return None  # nothing is open yet: close connections and threads here"
    return {
        "name": name,
        "scheme": name,
        "package": f"taskkit_{name}",
        "distribution": f"taskkit-{name}",
        "Class": cls,
        "description": f"{name}:// (a new taskkit backend)",
        "core_requirement": core_requirement(),
        "names_module": check_namespace.__module__,
        "backend_imports": imports(backend),
        "backend_doc": backend.docstring(),
        "backend_methods": stubs(
            backend, name, {"get_lock": f"return {cls}Lock(self.config, target)", "close": closing}
        ),
        "lock_doc": lock.docstring(),
        "lock_methods": stubs(lock, name),
        "bridge_imports": imports(bridge),
        "bridge_doc": bridge.docstring(),
        "bridge_methods": stubs(bridge, name, {"close": closing}),
    }


def render(name: str) -> dict[PurePosixPath, str]:
    """Every file of the skeleton for ``name``: its path in the project and its text."""
    values = placeholders(check_name(name))
    return {
        _target(path, name): Template(template.read_text(encoding="utf-8")).substitute(values)
        for path, template in _templates(TEMPLATES, PurePosixPath())
    }


def _templates(folder: Traversable, path: PurePosixPath) -> list[tuple[PurePosixPath, Traversable]]:
    found: list[tuple[PurePosixPath, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found += _templates(entry, path / entry.name)
        elif entry.name.endswith(".tmpl"):
            found.append((path / entry.name, entry))
    return found


def _target(path: PurePosixPath, name: str) -> PurePosixPath:
    parts = (part.replace("taskkit_NAME", f"taskkit_{name}") for part in path.parts)
    return PurePosixPath(*parts).with_suffix("")


def write(files: dict[PurePosixPath, str], directory: Path) -> None:
    """Write ``files`` under ``directory``, which must not exist or be empty."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConfigurationError(
            f"{directory} already exists and is not an empty directory; "
            "choose another with --directory (nothing was written)"
        )
    for path, text in files.items():
        target = directory.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
