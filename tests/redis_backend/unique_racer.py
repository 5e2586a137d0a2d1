"""One racing process of test_unique: THREADS threads put a task with one unique key at once.

Run as ``python unique_racer.py URL NAMESPACE THREADS START_AT``; prints the
(task id, created) answers as JSON. START_AT (epoch seconds) lines the
processes up; a barrier lines the threads up.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from taskkit_core.opening import connect
from taskkit_core.task import Task, Unique


def main(url: str, namespace: str, threads: int, start_at: float) -> None:
    connection = connect(url, namespace=namespace)
    barrier = threading.Barrier(threads)
    answers: list[tuple[str, bool]] = []

    def put() -> None:
        task = Task.init("g", "echo", b"null", unique=Unique("the-key"))
        time.sleep(max(0.0, start_at - time.time()))
        barrier.wait(30)
        (result,) = connection.backend.put_tasks(task)
        answers.append((result.task_id, result.created))

    workers = [threading.Thread(target=put) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    connection.close()
    print(json.dumps(answers))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
