"""What one put call writes, and what it answers for each task it was given.

A call may name a task id twice, or two tasks with one unique key: the
first of each is the one written (a repeat of an id is an idempotent
put; a later task with a taken key reports the first's holder). The plan
keeps the tasks in order and turns what the database did (the ids it
inserted, the holder of each key) into one PutResult per task given.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from taskkit_core.backend import AllCreated, PutResult
from taskkit_core.task import Task

from .uniques import Key, key_of


class PutPlan:
    """The tasks of one put call: those to write, and the keyed ones to resolve first."""

    def __init__(self, tasks: Sequence[Task]) -> None:
        self.given = tasks
        self.candidates: list[Task] = []
        """The first task of each unique key in the call."""
        if len(tasks) == 1 and tasks[0].unique is None:
            self.tasks = list(tasks)  # the usual single put
            return
        if not any(task.unique for task in tasks):
            self.tasks = list({task.id: task for task in tasks}.values())
            """Each task to write, once per id (before unique keys are resolved)."""
            return
        by_id: dict[str, Task] = {}
        by_key: dict[Key, Task] = {}
        for task in tasks:
            key = key_of(task)
            if key is not None and key in by_key:
                continue  # a later task with a key taken in this call: never written
            if key is not None and task.id not in by_id:
                by_key[key] = task
            by_id.setdefault(task.id, task)
        self.tasks = list(by_id.values())
        self.candidates = list(by_key.values())

    def writes(self, holders: Mapping[Key, str]) -> list[Task]:
        """The tasks to insert once each key's holder is known: not those refused."""
        return [t for t in self.tasks if (k := key_of(t)) is None or holders[k] == t.id]

    def results(self, inserted: Collection[str], holders: Mapping[Key, str]) -> Sequence[PutResult]:
        """One PutResult per task given, in order."""
        if not holders and len(self.tasks) == len(self.given):  # no keys, no id twice
            if len(inserted) == len(self.given):
                return AllCreated(self.given)
            return [PutResult(task.id, task.id in inserted) for task in self.given]
        answered: set[str] = set()
        results: list[PutResult] = []
        for task in self.given:
            key = key_of(task)
            task_id = task.id if key is None else holders.get(key, task.id)
            created = task_id == task.id and task.id in inserted and task.id not in answered
            results.append(PutResult(task_id, created))
            answered.add(task.id)
        return results
