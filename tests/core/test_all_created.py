"""AllCreated: the answer of a put that created every task, read like a list of PutResults."""

from __future__ import annotations

import pytest

from taskkit_core import AllCreated, PutResult, Task


@pytest.fixture
def tasks() -> list[Task]:
    return [Task.init("g", "n", str(i).encode()) for i in range(3)]


def test_it_reads_as_one_created_put_result_per_task(tasks: list[Task]) -> None:
    answer = AllCreated(tasks)
    expected = [PutResult(t.id, True) for t in tasks]
    assert len(answer) == 3
    assert list(answer) == expected
    assert answer[0] == expected[0]
    assert answer[-1] == expected[-1]
    assert answer[1:] == expected[1:]
    with pytest.raises(IndexError):
        answer[3]


def test_it_equals_a_list_of_the_same_answers_either_way(tasks: list[Task]) -> None:
    answer = AllCreated(tasks)
    assert answer == [PutResult(t.id, True) for t in tasks]
    assert [PutResult(t.id, True) for t in tasks] == answer
    assert answer != [PutResult(tasks[0].id, False), *answer[1:]]
    assert answer != answer[:2]
    assert answer != "not answers"


def test_its_repr_counts_instead_of_listing(tasks: list[Task]) -> None:
    assert repr(AllCreated(tasks)) == "AllCreated(3 tasks)"
