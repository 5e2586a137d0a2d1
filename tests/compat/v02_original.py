"""A program written against the taskkit 0.2 API, as it ran on taskkit 0.2.4.

v02_ported.py is this file with only its imports and the make_kit call
changed; test_v02_program.py checks that and compares the results of both.
Run against the original with ``python v02_original.py REDIS_PORT`` in a
virtualenv holding taskkit==0.2.4 and redis.
"""

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from redis import Redis

from taskkit import (
    DiscardTask,
    Failed,
    InitiateTaskArgs,
    Kit,
    NotFound,
    ResultGetTimedOut,
    Task,
    TaskHandler,
)
from taskkit.impl.redis import make_kit

GROUP = "compat"


class Handler(TaskHandler):
    def handle(self, task: Task) -> Any:
        data = json.loads(task.data)
        if task.name == "square":
            return data * data
        if task.name == "flaky":
            if task.retry_count < 2:
                raise RuntimeError(f"flaky {data} try {task.retry_count}")
            return data * 10 + task.retry_count
        if task.name == "fail":
            raise ValueError(f"bad {data}")
        if task.name in ("discard", "retry_discard"):
            if task.name == "discard":
                raise DiscardTask
            raise RuntimeError("then discard")
        if task.name == "later":
            return task.due <= time.time()
        raise ValueError(f"unknown task {task.name}")

    def get_retry_interval(self, task: Task, exception: Exception) -> float | None:
        if task.name == "flaky":
            return 0.2
        if task.name == "retry_discard":
            raise DiscardTask
        return None

    def encode_data(self, group: str, task_name: str, data: Any) -> bytes:
        return json.dumps(data).encode()

    def encode_result(self, task: Task, result: Any) -> bytes:
        return json.dumps(result).encode()

    def decode_result(self, task: Task, encoded: bytes) -> Any:
        return json.loads(encoded)


KINDS = ["square", "flaky", "fail", "discard", "retry_discard", "later"]


def outcome(result: Any) -> Any:
    try:
        return result.get(timeout=60)
    except Failed as e:
        return "failed: " + e.message.strip().splitlines()[-1]
    except NotFound:
        return "not found"


def main(
    kit: Kit, start_workers: Callable[[Kit], Any], stop_workers: Callable[[Any], Any]
) -> dict[str, Any]:
    now = time.time()
    items: list[InitiateTaskArgs] = []
    for i in range(200):
        name = KINDS[i % len(KINDS)]
        item: InitiateTaskArgs = {"group": GROUP, "name": name, "data": i}
        if name == "later":
            item["due"] = now + 1.5
        items.append(item)
    results = kit.initiate_tasks(*items)
    eager = kit.initiate_task(GROUP, "square", 12, eager=True)
    eager_fail = kit.initiate_task(GROUP, "fail", 13, eager=True)

    workers = start_workers(kit)
    time.sleep(1.5)
    values = {str(i): outcome(r) for i, r in enumerate(results)}
    values["eager"] = outcome(eager)
    values["eager_fail"] = outcome(eager_fail)

    kit.send_pause_event()
    time.sleep(1.5)
    more: list[InitiateTaskArgs] = [
        {"group": GROUP, "name": "square", "data": i} for i in range(10)
    ]
    paused = kit.initiate_tasks(*more)
    time.sleep(2.5)
    ran_while_paused = 0
    for r in paused:
        try:
            r.get(timeout=0.01)
            ran_while_paused += 1
        except ResultGetTimedOut:
            pass
    kit.send_resume_event()
    after_resume = [r.get(timeout=60) for r in paused]

    kit.send_shutdown_event()
    exit_codes = stop_workers(workers)
    return {
        "values": values,
        "ran_while_paused": ran_while_paused,
        "after_resume": after_resume,
        "exit_codes": exit_codes,
    }


def start_processes(kit: Kit) -> Any:
    return kit.start_processes(2, {GROUP: 4})


def join_processes(processes: Any) -> list[Any]:
    for p in processes:
        p.join(60)
    return [p.exitcode for p in processes]


if __name__ == "__main__":
    kit = make_kit(Redis(port=int(sys.argv[1])), Handler())
    print(json.dumps(main(kit, start_processes, join_processes), sort_keys=True))
