"""The Lua header: the layout of ``keys`` and ``states`` written as Lua locals.

Every script starts with this text (then ``lua/lib.lua``, then the script),
so the scripts name keys, task fields, states and outcome kinds only
through these locals and the Python modules stay their one source:

- ``KEY_<NAME>``: each ``keys.Family`` start (``KEY_TASK = 't:'``) and
  ``keys.Fixed`` name (``KEY_GROUPS = 'groups'``), to follow the prefix;
- ``FIELD_<NAME>``: each ``keys.Field`` (``FIELD_STATE = 'st'``);
- ``TASK_FIELDS``: ``keys.TASK_FIELDS``, the fields of a Task in order;
- ``STATE_<NAME>``: the stored string of each task state (``states.STORED``);
- ``OUTCOME_<NAME>``: each ``OutcomeKind`` value, as ``settle`` sends it.

The text depends on nothing but these constants, so each script's SHA is
fixed for a release.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from taskkit_core.backend import OutcomeKind

from .keys import TASK_FIELDS, Family, Field, Fixed, constants
from .states import STORED

_PLAIN = re.compile(r"[A-Za-z0-9_:]+")


def lua_string(value: str) -> str:
    """``value`` as a Lua string literal; only plain names are expected."""
    if not _PLAIN.fullmatch(value):
        raise ValueError(f"not a plain layout name: {value!r}")
    return f"'{value}'"


def _locals(prefix: str, values: Mapping[str, str]) -> Iterable[str]:
    for name, value in values.items():
        yield f"local {prefix}{name} = {lua_string(value)}"


@functools.cache
def lua_header() -> str:
    """The Lua text every script starts with."""
    fields = ", ".join(lua_string(field) for field in TASK_FIELDS)
    lines = [
        "-- Written by taskkit_redis.lua_header from keys.py, states.py and OutcomeKind.",
        *_locals("KEY_", {**constants(Family), **constants(Fixed)}),
        *_locals("FIELD_", constants(Field)),
        f"local TASK_FIELDS = {{{fields}}}",
        *_locals("STATE_", {state.name: text for state, text in STORED.items()}),
        *_locals("OUTCOME_", {kind.name: kind.value for kind in OutcomeKind}),
    ]
    return "\n".join(lines) + "\n"
