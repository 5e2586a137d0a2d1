"""``settle``: the fenced writes that end claimed attempts, a batch at a time.

Every write matches the task id, the staged state, the worker id and the
attempt of its claim; only then does it take effect (fencing). The
statements run on the driver's cursor (see ``driver``):

- PostgreSQL: one statement per kind of outcome in the batch, its rows
  bound as arrays (see ``arrays``), returning the ids it changed. A batch
  of one kind (the usual case: all succeeded) is one autocommit round trip.
- SQLite and MySQL/MariaDB: one UPDATE (or DELETE) per outcome, judged by
  its row count, in id order (so two concurrent settles cannot deadlock).

Several statements share one transaction. Answers come back in the order
the outcomes were given. A settle is never retried here after a lost
connection: the core's settler retries it, and fencing makes that safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection
from taskkit_core.backend import Outcome, OutcomeKind
from taskkit_core.clock import cur_ts

from .arrays import ArrayStatements
from .blobs import head, in_pieces
from .driver import Prepared, execute
from .engine import Database
from .statements import SettleStatements


class OutcomeWriter(Protocol):
    """How one database family applies a batch of outcomes."""

    def settle(self, outcomes: Sequence[Outcome]) -> list[bool]:
        """One bool per outcome: True if its claim was current and it took effect."""
        ...


class ArrayOutcomeWriter:
    """PostgreSQL: one statement per kind of outcome (see the module docstring)."""

    def __init__(self, db: Database, statements: ArrayStatements) -> None:
        self._db = db
        self._sql = statements

    def settle(self, outcomes: Sequence[Outcome]) -> list[bool]:
        steps = [
            (kind, part) for round_ in _rounds(outcomes) for kind, part in _by_kind(round_).items()
        ]

        def work(cursor: Any) -> set[int]:
            accepted: set[int] = set()
            for kind, part in steps:
                sql, params = self._sql.settle(kind, [outcome for _, outcome in part])
                cursor.execute(sql, params)
                # One column, the id of each changed task (NULL rows: see ``arrays``).
                changed = {task_id for (task_id,) in cursor.fetchall() if task_id is not None}
                accepted.update(i for i, o in part if o.claim.task.id in changed)
            return accepted

        accepted = self._db.call(work, transaction=len(steps) > 1)
        return [i in accepted for i in range(len(outcomes))]


def _rounds(outcomes: Sequence[Outcome]) -> list[list[tuple[int, Outcome]]]:
    """Split into rounds in which no task id occurs twice (an array join sees each once)."""
    rounds: list[list[tuple[int, Outcome]]] = []
    seen: list[set[str]] = []
    for index, outcome in enumerate(outcomes):
        task_id = outcome.claim.task.id
        number = next((n for n, ids in enumerate(seen) if task_id not in ids), len(seen))
        if number == len(seen):
            rounds.append([])
            seen.append(set())
        rounds[number].append((index, outcome))
        seen[number].add(task_id)
    return rounds


def _by_kind(part: list[tuple[int, Outcome]]) -> dict[OutcomeKind, list[tuple[int, Outcome]]]:
    kinds: dict[OutcomeKind, list[tuple[int, Outcome]]] = {}
    for index, outcome in part:
        kinds.setdefault(outcome.kind, []).append((index, outcome))
    return kinds


class RowOutcomeWriter:
    """SQLite and MySQL/MariaDB: one fenced statement per outcome."""

    def __init__(self, db: Database, statements: SettleStatements) -> None:
        self._db = db
        self._sql = statements
        dialect = db.dialect
        self._prepared: dict[OutcomeKind, Prepared] = {
            OutcomeKind.SUCCEEDED: Prepared.of(statements.succeeded, dialect),
            OutcomeKind.FAILED: Prepared.of(statements.failed, dialect),
            OutcomeKind.RETRIED: Prepared.of(statements.retried, dialect),
            OutcomeKind.RELEASED: Prepared.of(statements.released, dialect),
            OutcomeKind.DISCARDED: Prepared.of(statements.discarded, dialect),
            OutcomeKind.CANCELLED: Prepared.of(statements.cancelled, dialect),
        }

    def settle(self, outcomes: Sequence[Outcome]) -> list[bool]:
        family = self._db.family
        if any(in_pieces(family, outcome.result) for outcome in outcomes):
            return self._settle_in_pieces(outcomes)
        order = sorted(range(len(outcomes)), key=lambda i: outcomes[i].claim.task.id)

        def work(cursor: Any) -> list[bool]:
            answers = [False] * len(outcomes)
            for index in order:
                outcome = outcomes[index]
                prepared = self._prepared[outcome.kind]
                answers[index] = execute(cursor, prepared, _values(outcome)).rowcount == 1
            return answers

        return self._db.call(work, transaction=len(outcomes) > 1)

    def _settle_in_pieces(self, outcomes: Sequence[Outcome]) -> list[bool]:
        """A batch with a result too large for one MySQL statement, through SQLAlchemy."""
        order = sorted(range(len(outcomes)), key=lambda i: outcomes[i].claim.task.id)
        answers = [False] * len(outcomes)
        with self._db.write() as conn:
            for index in order:
                answers[index] = self._apply(conn, outcomes[index])
        return answers

    def _apply(self, conn: Connection, outcome: Outcome) -> bool:
        s = self._sql
        statement: Any = getattr(s, outcome.kind.value)
        params = _values(outcome)
        if outcome.kind is OutcomeKind.SUCCEEDED:
            params["b_result"] = head(s.family, bytes(outcome.result))
        accepted = conn.execute(statement, params).rowcount == 1
        if accepted and outcome.kind is OutcomeKind.SUCCEEDED:
            s.appender.rest(conn, "result", outcome.claim.task.id, bytes(outcome.result))
        return accepted


def _values(outcome: Outcome) -> dict[str, Any]:
    claim = outcome.claim
    values: dict[str, Any] = {
        "b_id": claim.task.id,
        "b_worker": claim.worker_id,
        "b_attempt": claim.attempt,
        "now": cur_ts(),
    }
    if outcome.kind is OutcomeKind.SUCCEEDED:
        values["b_result"] = bytes(outcome.result)
    elif outcome.kind in (OutcomeKind.FAILED, OutcomeKind.CANCELLED):
        values["b_error"] = outcome.message
    elif outcome.kind is OutcomeKind.RETRIED:
        values["b_delay"] = float(outcome.delay)
    return values
