"""``settle``: the fenced writes that end a claimed attempt.

Each outcome is one UPDATE (or DELETE) that matches the task id, the
staged state, the worker id and the attempt of its claim; its row count
says whether it took effect. One outcome runs as a single autocommit
statement where the database allows; several share one transaction and
are applied in id order (so two concurrent settles cannot deadlock), with
the answers returned in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection
from taskkit_core.backend import Outcome, OutcomeKind
from taskkit_core.clock import cur_ts

from .blobs import head, in_pieces
from .engine import Database
from .statements import SettleStatements


def settle_outcomes(
    db: Database, statements: SettleStatements, outcomes: Sequence[Outcome]
) -> list[bool]:
    """Apply ``outcomes``; one bool per outcome (False: the claim was no longer current)."""
    if len(outcomes) == 1:
        with db.single() as conn:
            return [_apply(conn, statements, outcomes[0])]
    order = sorted(range(len(outcomes)), key=lambda i: outcomes[i].claim.task.id)
    answers = [False] * len(outcomes)
    with db.write() as conn:
        for index in order:
            answers[index] = _apply(conn, statements, outcomes[index])
    return answers


def _apply(conn: Connection, s: SettleStatements, outcome: Outcome) -> bool:
    claim = outcome.claim
    params: dict[str, Any] = {
        "b_id": claim.task.id,
        "b_worker": claim.worker_id,
        "b_attempt": claim.attempt,
        "now": cur_ts(),
    }
    match outcome.kind:
        case OutcomeKind.SUCCEEDED:
            statement: Any = s.succeeded
            params["b_result"] = head(s.family, bytes(outcome.result))
        case OutcomeKind.FAILED:
            statement = s.failed
            params["b_error"] = outcome.message
        case OutcomeKind.RETRIED:
            statement = s.retried
            params["b_delay"] = float(outcome.delay)
        case OutcomeKind.RELEASED:
            statement = s.released
        case OutcomeKind.DISCARDED:
            statement = s.discarded
    accepted = conn.execute(statement, params).rowcount == 1
    if accepted and outcome.kind is OutcomeKind.SUCCEEDED and in_pieces(s.family, outcome.result):
        s.appender.rest(conn, "result", claim.task.id, bytes(outcome.result))
    return accepted
