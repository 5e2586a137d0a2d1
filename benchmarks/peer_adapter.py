"""taskkit 0.3 (this project) in the peer harness: one adapter per backend.

Copy this file to ``<peers>/adapters/project.py`` of a copy of the peer
harness (``python -m benchmarks.peers`` does, see README.md); it is not
imported from the project. It follows ``adapters/taskkit.py`` (taskkit
0.2.4): the same no-op handler calling ``common.record``, the same enqueue
calls, workers started with ``kit.start_processes(1, {"bench": 8})`` with
the project's defaults, in a worker process of the harness.

The three workspace packages must be importable by the harness's Python:
``setup`` installs them (``pip install -e`` of taskkit_core,
``taskkit_sql[postgres,mysql]`` and taskkit_redis from TASKKIT_PROJECT_DIR,
default /work/main) when they are missing.

Each backend keeps this harness's tasks in the namespace ``peerbench``:
Redis logical DB 6 (the peers use 1-5 and 15), the ``bench`` databases of
PostgreSQL and MariaDB (tables ``peerbench_*``), and an SQLite file in the
harness's data folder.
"""

# ruff: noqa: RUF012
# mypy: ignore-errors
# (The harness's style, as in its adapters/base.py: mutable class metadata, untyped.)
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import common
from adapters.base import Adapter

GROUP = "bench"
TASK = "noop"
NAMESPACE = "peerbench"
REDIS_DB = 6
PROJECT_DIR = Path(os.environ.get("TASKKIT_PROJECT_DIR", "/work/main"))


def ensure_installed() -> None:
    """pip install -e the three workspace packages into this interpreter if they are missing."""
    try:
        import taskkit_core  # noqa: F401
        import taskkit_redis  # noqa: F401
        import taskkit_sql  # noqa: F401
    except ImportError:
        packages = [
            str(PROJECT_DIR / "taskkit_core"),
            f"{PROJECT_DIR / 'taskkit_sql'}[postgres,mysql]",
            str(PROJECT_DIR / "taskkit_redis"),
        ]
        argv = [sys.executable, "-m", "pip", "install", "-q"]
        for package in packages:
            argv += ["-e", package]
        subprocess.run(argv, check=True, timeout=900)
        import importlib

        importlib.invalidate_caches()


class ProjectHandler:
    """The no-op task: records its start and returns None (the harness's taskkit handler).

    Module-level, so it pickles by reference: worker processes start with
    forkserver by default and import ``adapters.project`` to unpickle it.
    """

    def handle(self, task):
        if task.group == GROUP and task.name == TASK:
            common.record(json.loads(task.data))
            return None
        from taskkit_core import DiscardTask

        raise DiscardTask

    def get_retry_interval(self, task, exception):
        return None  # never retry: a failed no-op is a bug

    def encode_data(self, group, task_name, data):
        return json.dumps(data).encode()

    def encode_result(self, task, result):
        return json.dumps(result).encode()

    def decode_result(self, task, encoded):
        return json.loads(encoded)


class _ProjectBase(Adapter):
    distributions = ["taskkit-core", "taskkit-sql", "taskkit-redis"]
    concurrency_model = "threads (kit.start_processes: 1 process x 8 threads)"
    has_bulk = True
    enqueue_api = "kit.initiate_task(g, n, i) / kit.initiate_tasks(*[{...}])"
    notes = "taskkit 0.3 (this project), default WorkerSettings and polling interval."
    needs_migrate = True

    def url(self) -> str:
        raise NotImplementedError

    def make_kit(self):
        from taskkit_core import Kit

        return Kit.from_url(self.url(), ProjectHandler(), namespace=NAMESPACE)

    def setup(self):
        ensure_installed()
        if self.needs_migrate:
            import taskkit_core

            taskkit_core.migrate(self.url(), namespace=NAMESPACE)
        self.kit = self.make_kit()

    def clean(self):
        self.kit.backend.destroy_all()

    def enqueue(self, ids, bulk=False):
        if bulk:
            self.kit.initiate_tasks(*[{"group": GROUP, "name": TASK, "data": i} for i in ids])
        else:
            initiate = self.kit.initiate_task
            for i in ids:
                initiate(GROUP, TASK, i)

    def worker_main(self, concurrency):
        kit = self.make_kit()
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        procs = kit.start_processes(1, {GROUP: concurrency}, daemon=True)
        kit.close()
        done.wait()
        for p in procs:  # children got SIGTERM too (same process group)
            p.join(timeout=10)

    def teardown(self):
        kit = getattr(self, "kit", None)
        if kit is not None:
            kit.close()


class ProjectRedisAdapter(_ProjectBase):
    name = "project-redis"
    distributions = [*_ProjectBase.distributions, "redis"]
    backend = "Redis"
    needs_migrate = False

    def url(self):
        return common.redis_url(REDIS_DB)

    def clean(self):
        common.flush_redis_db(REDIS_DB)


class ProjectPostgresAdapter(_ProjectBase):
    name = "project-postgres"
    distributions = [*_ProjectBase.distributions, "SQLAlchemy", "psycopg"]
    backend = "PostgreSQL"

    def url(self):
        return common.pg_dsn("bench")


class ProjectMariaDBAdapter(_ProjectBase):
    name = "project-mariadb"
    distributions = [*_ProjectBase.distributions, "SQLAlchemy", "PyMySQL"]
    backend = "MariaDB"

    def url(self):
        return (
            f"mysql://{common.DB_USER}:{common.DB_PASSWORD}@{common.HOST}:"
            f"{common.MYSQL_PORT}/{common.DB_NAME}"
        )


class ProjectSQLiteAdapter(_ProjectBase):
    name = "project-sqlite"
    distributions = [*_ProjectBase.distributions, "SQLAlchemy"]
    backend = "SQLite"

    def url(self):
        common.DATA_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{common.DATA_DIR / 'project.sqlite3'}"


ADAPTERS = [
    ProjectRedisAdapter,
    ProjectPostgresAdapter,
    ProjectMariaDBAdapter,
    ProjectSQLiteAdapter,
]
