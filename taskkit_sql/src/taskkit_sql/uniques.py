"""Unique keys: which task holds each (group, key), decided inside the put's transaction.

``<ns>_unique_keys`` has one row per (group, key) ever put, naming its
holder, the last task written with that key. A put of keyed tasks, in its
transaction (taskkit's own, or the application's with ``connection=``):

1. inserts a row for each key that has none yet, naming the new task
   (existing rows are left alone; on MySQL the no-op ``ON DUPLICATE KEY
   UPDATE`` locks them, elsewhere a concurrent insert of the same key
   waits for this transaction);
2. reads the rows back ``FOR UPDATE`` (SQLite: the write lock of ``BEGIN
   IMMEDIATE`` already serialises everything), so every other put of these
   keys now waits until this transaction ends;
3. reads each holder that is another task and asks the core's
   :class:`~taskkit_core.task.Unique` whether it still counts (its state
   covered, its period not over, on the core's clock like its ``created``);
4. points the rows of keys whose holder no longer counts at the new task.

A new task whose key has a holder that counts is not written. So any
number of concurrent puts of one key leave exactly one task. Keys are
locked in (group, key) byte order, so two puts of several keys cannot
deadlock each other (and a deadlock the server breaks anyway is retried,
see ``engine``).

A row outlives its holder only until that holder is discarded or purged
(both delete the rows naming it) or a new put takes the key over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, select, tuple_, update
from sqlalchemy.engine import Connection
from taskkit_core.clock import cur_ts
from taskkit_core.task import Task, Unique

from .databases.base import Family
from .schema import Tables
from .statements import UNIQUE_STATES
from .states import task_state

KEYS_PER_STATEMENT = 500
"""(group, key) pairs per ``IN`` list."""

Key = tuple[str, str]
"""A task's (group, unique key)."""


def key_of(task: Task) -> Key | None:
    """The (group, key) a task holds if written, or None for a task without a key."""
    return None if task.unique is None else (task.group, task.unique.key)


class UniqueKeys:
    """The statements of the four steps (see the module docstring)."""

    def __init__(self, tables: Tables, family: Family) -> None:
        u, t = tables.unique_keys, tables.tasks
        self._add = family.insert_ignoring_duplicates(u)
        pairs: BindParameter[Any] = bindparam("b_keys", expanding=True)
        self._read = (
            select(u.c.group_name, u.c.unique_key, u.c.task_id)
            .where(tuple_(u.c.group_name, u.c.unique_key).in_(pairs))
            .order_by(u.c.group_name, u.c.unique_key)
            .with_for_update()
        )
        ids = bindparam("b_ids", expanding=True, type_=t.c.id.type)
        self._holders = select(
            t.c.id, t.c.state, t.c.created, t.c.unique_key, t.c.unique_period, t.c.unique_states
        ).where(t.c.id.in_(ids))
        self._take_over = (
            update(u)
            .where(
                u.c.group_name == bindparam("b_group", type_=u.c.group_name.type),
                u.c.unique_key == bindparam("b_key", type_=u.c.unique_key.type),
            )
            .values(task_id=bindparam("b_task", type_=u.c.task_id.type))
        )

    def resolve(self, conn: Connection, candidates: Sequence[Task]) -> dict[Key, str]:
        """The holder of each candidate's key once this put commits (its own id if it won).

        ``candidates`` have distinct keys; runs in ``conn``'s transaction.
        """
        ordered = sorted(candidates, key=_byte_order)
        rows = [{"group_name": t.group, "unique_key": _key(t), "task_id": t.id} for t in ordered]
        conn.execute(self._add, rows)
        holders = self._read_holders(conn, [(t.group, _key(t)) for t in ordered])
        own = {t.id for t in ordered}
        counting = self._counting(conn, {h for h in holders.values() if h not in own})
        takers = [t for t in ordered if holders[(t.group, _key(t))] not in (t.id, *counting)]
        if takers:
            conn.execute(
                self._take_over,
                [{"b_group": t.group, "b_key": _key(t), "b_task": t.id} for t in takers],
            )
            holders.update({(t.group, _key(t)): t.id for t in takers})
        return holders

    def _read_holders(self, conn: Connection, keys: list[Key]) -> dict[Key, str]:
        holders: dict[Key, str] = {}
        for start in range(0, len(keys), KEYS_PER_STATEMENT):
            chunk = keys[start : start + KEYS_PER_STATEMENT]
            for row in conn.execute(self._read, {"b_keys": chunk}):
                holders[(row.group_name, row.unique_key)] = row.task_id
        return holders

    def _counting(self, conn: Connection, holder_ids: Iterable[str]) -> set[str]:
        """The holders among ``holder_ids`` that still refuse a duplicate."""
        ids, now = sorted(holder_ids), cur_ts()
        counting: set[str] = set()
        for start in range(0, len(ids), KEYS_PER_STATEMENT):
            rows = conn.execute(self._holders, {"b_ids": ids[start : start + KEYS_PER_STATEMENT]})
            counting.update(row.id for row in rows if _counts(row, now))
        return counting


def _counts(row: Any, now: float) -> bool:
    if row.unique_key is None:
        return False
    period = None if row.unique_period is None else float(row.unique_period)
    unique = Unique(row.unique_key, period, UNIQUE_STATES[int(row.unique_states)])  # type: ignore[arg-type]
    return unique.covers(task_state(row.state).value) and unique.in_period(float(row.created), now)


def _key(task: Task) -> str:
    assert task.unique is not None
    return task.unique.key


def _byte_order(task: Task) -> tuple[bytes, bytes]:
    return task.group.encode("utf-8"), _key(task).encode("utf-8")
