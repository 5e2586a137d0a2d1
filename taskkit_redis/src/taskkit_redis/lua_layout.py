"""The layout names of the Lua scripts, replaced by their values at load time.

The scripts spell no key, task field, state or outcome kind: they write
names, and ``expand`` swaps each for the Lua string it stands for when the
scripts are loaded, so ``keys`` and ``states`` stay the one source and the
loaded text runs exactly as if the literals were written in it (no locals
or upvalues to set up on each call):

- ``KEY_<NAME>``: each ``keys.Family`` start (``KEY_TASK`` -> ``'t:'``) and
  ``keys.Fixed`` name (``KEY_GROUPS`` -> ``'groups'``), to follow the prefix;
- ``FIELD_<NAME>``: each ``keys.Field`` (``FIELD_STATE`` -> ``'st'``), and
  ``FIELD_LIST``: ``keys.TASK_FIELDS`` in order, comma-separated;
- ``STATE_<NAME>``: the stored string of each task state (``states.STORED``);
- ``OUTCOME_<NAME>``: each ``OutcomeKind`` value, as ``settle`` sends it;
- ``UNIQUE_<NAME>``: each value of ``Unique.states`` (``UNIQUE_ACTIVE``);
- ``SEPARATOR``: ``keys.SEPARATOR`` (NUL), written as ``'\\0'``.

A name of this form that stands for nothing is an error at load time.
"""

from __future__ import annotations

import re
from typing import get_args

from taskkit_core.backend import OutcomeKind
from taskkit_core.task import UniqueStates

from .keys import SEPARATOR, TASK_FIELDS, Family, Field, Fixed, constants
from .states import STORED

_PLAIN = re.compile(r"[A-Za-z0-9_:]+")
NAME = re.compile(r"\b(?:(?:KEY|FIELD|STATE|OUTCOME|UNIQUE)_[A-Z_]+|SEPARATOR)\b")
"""What a layout name looks like in a script."""


def lua_string(value: str) -> str:
    """``value`` as a Lua string literal; only plain names (and NUL) are expected."""
    if value == "\x00":
        return "'\\0'"
    if not _PLAIN.fullmatch(value):
        raise ValueError(f"not a plain layout name: {value!r}")
    return f"'{value}'"


def python_layout() -> dict[str, str]:
    """Each layout name with the Python value it stands for."""
    return {
        **{f"KEY_{name}": value for name, value in constants(Family).items()},
        **{f"KEY_{name}": value for name, value in constants(Fixed).items()},
        **{f"FIELD_{name}": value for name, value in constants(Field).items()},
        **{f"STATE_{state.name}": value for state, value in STORED.items()},
        **{f"OUTCOME_{kind.name}": kind.value for kind in OutcomeKind},
        **{f"UNIQUE_{states.upper()}": states for states in get_args(UniqueStates)},
        "SEPARATOR": SEPARATOR,
    }


def _layout() -> dict[str, str]:
    lua = {name: lua_string(value) for name, value in python_layout().items()}
    lua["FIELD_LIST"] = ", ".join(lua_string(field) for field in TASK_FIELDS)
    return lua


LAYOUT = _layout()
"""Each layout name with the Lua text it stands for."""


def expand(source: str) -> str:
    """``source`` with every layout name replaced by its Lua string."""

    def value(match: re.Match[str]) -> str:
        try:
            return LAYOUT[match[0]]
        except KeyError:
            raise ValueError(f"unknown layout name {match[0]} in a Lua script") from None

    return NAME.sub(value, source)
