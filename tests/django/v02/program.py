# mypy: ignore-errors
# (This program runs with the real taskkit 0.2.4 from PyPI in a virtualenv of its own,
# where `taskkit` is 0.2's package, not this repository's compatibility layer.)
"""taskkit 0.2.4's Django backend at work: ``fill`` its tables with tasks in every state,
or run a 0.2 ``worker`` (of an idle group) until killed.

The database is the JSON DATABASES entry in V02_DATABASE; printed: the ids
of the unfinished tasks (which the move must carry over) and of the finished ones.
"""

import json
import os
import sys
import time

import django
import pymysql
from django.conf import settings

pymysql.version_info = (2, 2, 1, "final", 0)
pymysql.install_as_MySQLdb()
settings.configure(
    DATABASES={"default": json.loads(os.environ["V02_DATABASE"])},
    INSTALLED_APPS=["taskkit.contrib.django"],
    USE_TZ=True,
)
django.setup()

from django.core.management import call_command  # noqa: E402

from taskkit.impl.django import make_kit  # noqa: E402
from taskkit.task import Task  # noqa: E402


class Handler:
    def handle(self, task):
        return json.loads(task.data)

    def get_retry_interval(self, task, exception):
        return None

    def encode_data(self, group, task_name, data):
        return json.dumps(data).encode()

    def encode_result(self, task, result):
        return json.dumps(result).encode()

    def decode_result(self, task, encoded):
        return json.loads(encoded)


def fill(count):
    call_command("migrate", verbosity=0)
    kit = make_kit(Handler())
    backend = kit.backend
    queued = [
        r.task_id
        for r in kit.initiate_tasks(
            *({"group": "default", "name": "echo", "data": f"queued {i}"} for i in range(count))
        )
    ]
    later = kit.initiate_task("default", "echo", "later", due=time.time() + 2).task_id
    now = time.time() // 5 * 5
    scheduled = Task.init("default", "echo", b'"scheduled"', due=now, scheduled=now)
    state = json.dumps({"last_run_at": now, "last_scheduled_at": {"nightly": now}}).encode()
    backend.persist_scheduler_state_and_put_tasks("v02-schedule", state, scheduled)
    retrying = Task.init("default", "echo", b'"retrying"')
    backend.put_tasks(retrying)
    backend.retry_task(retrying.clone_for_retry(0.5))
    held = Task.init("held", "echo", b'"held by a dead worker"')
    backend.put_tasks(held)
    assert backend.assign_task("held", "a-worker-that-died").id == held.id
    finished = []
    for outcome in ("succeeded", "failed"):
        task = Task.init("default", "echo", json.dumps(outcome).encode())
        backend.put_tasks(task)
        if outcome == "succeeded":
            backend.succeed(task, b'"done"')
        else:
            backend.fail(task, "boom")
        finished.append(task.id)
    unfinished = [*queued, later, scheduled.id, retrying.id, held.id]
    print(json.dumps({"unfinished": unfinished, "finished": finished, "state": state.decode()}))


def worker():
    make_kit(Handler()).start(1, {"idle": 1})


if __name__ == "__main__":
    if sys.argv[1] == "fill":
        fill(int(sys.argv[2]))
    else:
        worker()
