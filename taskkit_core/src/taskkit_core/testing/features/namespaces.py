"""Names and namespaces: odd names stay distinct, namespaces never mix, destroy_all empties one.

Namespaces are compared without regard to case on every backend: a name
that differs from an existing namespace only in case is refused when it is
migrated or opened (``taskkit_core.names.check_same_namespace``), because
some storages fold the case of table names and would mix the two.
"""

from __future__ import annotations

from typing import Any

import pytest

from ...backend import Backend
from ...errors import ConfigurationError, NotFound
from ..support import make_task

ODD_GROUPS = [
    "a:b",
    "a",
    "{tag}",
    "with space",
    "Foo",
    "foo",
    "Foo ",
    "fo\u00f6",
    "fo\u0308o",
    "caf\u00e9",
    "cafe\u0301",
    "grp-\U0001f600",
    "grp-\U0001f601",
    "50%",
    "a_c",
    "abc",
    "a*",
    "a[b]",
    "line\nbreak",
    "x" * 300,
    "\U0001f600" * 300,
    "'; DROP TABLE tasks;--",
]
"""Group names that a careless backend would fold, trim, normalise or mix up."""


class NamespaceContract:
    """Group and task names byte for byte; everything kept inside its namespace."""

    def test_odd_group_names_stay_distinct(self, backend: Backend) -> None:
        tasks = {group: make_task(group=group, data=group) for group in ODD_GROUPS}
        backend.put_tasks(*tasks.values())
        for group, task in tasks.items():
            claims = backend.claim_tasks(group, "w1", 10)
            assert [c.task.id for c in claims] == [task.id], group
            assert claims[0].task.group == group
        stats = backend.group_stats(0)
        assert sorted(s.group for s in stats) == sorted(ODD_GROUPS)

    def test_odd_task_names_round_trip(self, backend: Backend) -> None:
        names = ["n\u00e9e", "a:b{c}", "x" * 400, "'; DROP TABLE tasks;--", "tab\tname"]
        tasks = [make_task(name=name) for name in names]
        backend.put_tasks(*tasks)
        found = backend.lookup_tasks(*(t.id for t in tasks))
        assert [found[t.id].name for t in tasks] == names  # type: ignore[union-attr]

    def test_namespaces_do_not_see_each_other(self, backend: Backend, taskkit_open: Any) -> None:
        other = taskkit_open(namespace=f"{backend.namespace}_b").backend
        task = make_task()
        backend.put_tasks(task)
        backend.refresh_leases({"w"}, 60)
        backend.persist_scheduler_state_and_put_tasks("s", b"mine", expected=None)
        assert other.claim_tasks("g", "w2", 10) == []
        assert other.lookup_tasks(task.id) == {task.id: None}
        assert other.get_leases() == []
        assert other.get_scheduler_state("s") is None
        assert other.get_lock("job").acquire()
        assert backend.get_lock("job").acquire()
        with pytest.raises(NotFound):
            other.get_result(task.id)
        other.destroy_all()
        assert backend.lookup_tasks(task.id)[task.id] == task

    def test_a_namespace_differing_only_in_case_is_refused(
        self, backend: Backend, taskkit_open: Any, taskkit_namespace: str
    ) -> None:
        task = make_task(data="secret")
        backend.put_tasks(task)
        variant = taskkit_namespace.swapcase()
        with pytest.raises(ConfigurationError) as refused:
            other = taskkit_open(namespace=variant).backend
            seen = other.lookup_tasks(task.id)[task.id] is not None
            pytest.fail(
                f"namespace {variant!r} opened next to {taskkit_namespace!r}"
                + (" and sees its tasks" if seen else "")
                + "; a namespace differing from an existing one only in case must be refused"
            )
        message = str(refused.value)
        assert repr(variant) in message and repr(taskkit_namespace) in message, message
        assert "\n" not in message
        assert backend.lookup_tasks(task.id) == {task.id: task}

    def test_destroy_all_empties_the_namespace(self, backend: Backend) -> None:
        backend.put_tasks(make_task(), make_task(group="h"))
        backend.refresh_leases({"w"}, 60)
        backend.persist_scheduler_state_and_put_tasks("s", b"x", expected=None)
        backend.destroy_all()
        assert backend.claim_tasks("g", "w", 10) == []
        assert backend.get_leases() == []
        assert backend.get_scheduler_state("s") is None
        assert backend.group_stats(0) == []
