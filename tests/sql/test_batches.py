"""A put larger than one batch: its batches share one transaction.

Batches are small here (monkeypatched limits) so that a put of five tasks
runs three statements. To fail the last of them after the others ran, the
driver's cursor is wrapped so that its third statement raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from taskkit_core.testing import make_task

from taskkit_core import Backend, PutResult
from taskkit_sql import puts

from .support import ON_EVERY_DATABASE, as_sql


class Broken(Exception):
    """What the wrapped cursor raises at its third statement."""


class FailsThirdStatement:
    """A driver cursor whose third execute (or executemany) raises Broken."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.statements = 0

    def _count(self) -> None:
        self.statements += 1
        if self.statements == 3:
            raise Broken

    def execute(self, *args: Any) -> Any:
        self._count()
        return self._cursor.execute(*args)

    def executemany(self, *args: Any) -> Any:
        self._count()
        return self._cursor.executemany(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@pytest.fixture
def batches_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(puts, "BATCH_ROWS", 2)
    monkeypatch.setattr(puts, "ARRAY_BATCH_ROWS", 2)


@ON_EVERY_DATABASE
def test_a_put_of_several_batches_stores_them_all(backend: Backend, batches_of_two: None) -> None:
    tasks = [make_task(data=i) for i in range(5)]
    assert list(backend.put_tasks(*tasks)) == [PutResult(t.id, True) for t in tasks]
    assert None not in backend.lookup_tasks(*[t.id for t in tasks]).values()


@ON_EVERY_DATABASE
def test_a_put_whose_last_batch_fails_stores_no_batch(
    backend: Backend, batches_of_two: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = as_sql(backend)._writer._db
    real_call = db.call

    def call(work: Callable[[Any], Any], **kwargs: Any) -> Any:
        return real_call(lambda cursor: work(FailsThirdStatement(cursor)), **kwargs)

    monkeypatch.setattr(db, "call", call)
    tasks = [make_task(data=i) for i in range(5)]
    with pytest.raises(Broken):
        backend.put_tasks(*tasks)
    monkeypatch.undo()
    assert set(backend.lookup_tasks(*[t.id for t in tasks]).values()) == {None}
