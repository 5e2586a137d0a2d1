"""Names a backend turns into storage identifiers: the namespace check.

A namespace becomes a table or key prefix, so it is checked before it
reaches storage. Every backend (first-party or not) calls
:func:`check_namespace` on the namespace it was given; group and task names
are checked by :func:`taskkit_core.task.check_name`.
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
