"""One source for the key layout: the Lua scripts get it from keys.py and states.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args

import pytest
import redis
from taskkit_core.backend import Outcome, OutcomeKind
from taskkit_core.task import Unique, UniqueStates
from taskkit_core.testing import make_task
from taskkit_redis.keys import (
    REQUIRED_FIELDS,
    SEPARATOR,
    TASK_FIELDS,
    Family,
    Field,
    Fixed,
    Keys,
    constants,
)
from taskkit_redis.lua_layout import LAYOUT, NAME, expand
from taskkit_redis.scripts import SCRIPT_NAMES, lua_source
from taskkit_redis.states import STORED

from taskkit_core import TaskState

OpenConnection = Callable[..., Any]

PYTHON_LAYOUT = {
    **{f"KEY_{name}": value for name, value in constants(Family).items()},
    **{f"KEY_{name}": value for name, value in constants(Fixed).items()},
    **{f"FIELD_{name}": value for name, value in constants(Field).items()},
    **{f"STATE_{state.name}": value for state, value in STORED.items()},
    **{f"OUTCOME_{kind.name}": kind.value for kind in OutcomeKind},
    **{f"UNIQUE_{states.upper()}": states for states in get_args(UniqueStates)},
    "SEPARATOR": SEPARATOR,
}
"""Every layout name the scripts may use, with the value Python uses for it."""

LITERAL = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def lua_code() -> dict[str, str]:
    """Each Lua file's code, its comments left out."""
    return {
        name: "\n".join(line.split("--", 1)[0] for line in lua_source(name).splitlines())
        for name in ("lib", *SCRIPT_NAMES)
    }


def fields_of(raw: redis.Redis, key: str) -> set[str]:
    """The names of the fields a hash holds."""
    return {f.decode() if isinstance(f, bytes) else f for f in raw.hkeys(key)}


def test_no_script_spells_a_key_field_state_or_outcome_itself() -> None:
    spelled = set(PYTHON_LAYOUT.values())
    for name, code in lua_code().items():
        literals = {a or b for a, b in LITERAL.findall(code)}
        assert not literals & spelled, f"{name}.lua spells {sorted(literals & spelled)}"


def test_every_layout_name_a_script_uses_stands_for_a_value() -> None:
    for name, code in lua_code().items():
        assert set(NAME.findall(code)) <= set(LAYOUT), name
    with pytest.raises(ValueError, match="unknown layout name FIELD_NOPE"):
        expand("redis.call('HGET', key, FIELD_NOPE)")


def test_the_scripts_see_the_values_python_uses(raw: redis.Redis) -> None:
    names = list(PYTHON_LAYOUT)
    probe = expand(f"return {{{', '.join(names)}, FIELD_LIST}}")
    seen = [value.decode() for value in raw.eval(probe, 0)]
    assert dict(zip(names, seen, strict=False)) == PYTHON_LAYOUT
    assert tuple(seen[len(names) :]) == TASK_FIELDS


def test_a_task_hash_holds_the_documented_fields_in_each_state(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    task = make_task()
    key = Keys(namespace).task(task.id)
    backend.put_tasks(task)
    queued = {*TASK_FIELDS[:REQUIRED_FIELDS], Field.STATE, Field.ATTEMPT}
    assert fields_of(raw, key) == queued
    assert raw.hget(key, Field.STATE) == STORED[TaskState.QUEUED].encode()
    (claim,) = backend.claim_tasks(task.group, "w", 1)
    assert fields_of(raw, key) == queued | {Field.WORKER, Field.BEGAN}
    assert raw.hget(key, Field.STATE) == STORED[TaskState.STAGED].encode()
    backend.settle(Outcome.succeeded(claim, b"r"))
    finished = queued | {Field.WORKER, Field.BEGAN, Field.FINISHED, Field.RESULT}
    assert fields_of(raw, key) == finished
    assert raw.hget(key, Field.STATE) == STORED[TaskState.SUCCEEDED].encode()


def test_a_task_with_job_control_options_stores_each_and_reads_it_back(
    open_connection: OpenConnection, raw: redis.Redis, namespace: str
) -> None:
    backend = open_connection().backend
    task = make_task(
        priority=-7,
        timeout=2.5,
        headers={"trace": "t-1", "é": "ü"},
        unique=Unique("k", period=60.0, states="active"),
    )
    backend.put_tasks(task)
    assert fields_of(raw, Keys(namespace).task(task.id)) == {
        *TASK_FIELDS,
        Field.STATE,
        Field.ATTEMPT,
    }
    assert backend.lookup_tasks(task.id)[task.id] == task
    (claim,) = backend.claim_tasks(task.group, "w", 1)
    assert claim.task == task
    assert dict(claim.task.headers) == {"trace": "t-1", "é": "ü"}
