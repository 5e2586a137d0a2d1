"""Names a backend turns into storage identifiers: the namespace checks.

A namespace becomes a table or key prefix, so it is checked before it
reaches storage. Every backend (first-party or not) calls
:func:`check_namespace` on the namespace it was given; group and task names
are checked by :func:`taskkit_core.task.check_name`.

Namespaces are compared without regard to case, on every backend: some
storages fold the case of table names (SQLite always, MySQL and MariaDB
with ``lower_case_table_names`` 1 or 2), and there two namespaces that
differ only in case would share their tables. So a backend records the
exact name of each namespace it creates, where a case variant would find
it, and refuses a namespace that differs from a recorded one only in case
(:func:`check_same_namespace`), whatever its storage does with case.
"""

from __future__ import annotations

import re

from .errors import ConfigurationError

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


def namespace_key(namespace: str) -> str:
    """The form under which namespaces are compared: two names with one key collide."""
    return namespace.lower()


def check_same_namespace(namespace: str, existing: str | None) -> str:
    """``namespace`` unless ``existing`` (a recorded namespace of the same key) differs.

    ``existing`` is the exact name a backend recorded under
    ``namespace_key(namespace)``, or None when there is none yet. A name
    that differs only in case raises ConfigurationError naming both.
    """
    if existing is not None and existing != namespace:
        raise ConfigurationError(
            f"namespace {namespace!r} collides with the existing namespace {existing!r} "
            "on this server: namespaces are compared without regard to case; "
            "choose another name"
        )
    return namespace
