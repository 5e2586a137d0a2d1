"""The completion recorder: every task writes its start time to Redis, as the peers' tasks do.

The peer harness's no-op task does exactly one thing: ``HSET ts <id>
time.time()`` plus ``INCR count`` in Redis DB 15, one pipelined round trip
(its ``common.record``). Ours does the same, so the recorder costs the same
here as in the peer figures. The keys carry a random token per run, so
this harness and the peer harness (keys ``bench:ts`` / ``bench:count``) can
share one Redis server without touching each other's keys.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass

import redis

DEFAULT_RECORDER_URL = "redis://127.0.0.1:6379/15"
"""Redis logical DB 15, the peers' recorder database."""

POLL_INTERVAL = 0.005
"""How often the driver polls the recorder while waiting (the peers' 5 ms)."""

RECORDER_CONNECTIONS = 64
"""Connections to the recorder per worker process; more threads wait for one."""


@dataclass(frozen=True)
class RecorderKeys:
    """Where one run's tasks record: a Redis URL and two keys."""

    url: str
    ts: str
    count: str

    @classmethod
    def new(cls, url: str = DEFAULT_RECORDER_URL) -> RecorderKeys:
        """Fresh keys for one run (a random token keeps runs apart)."""
        token = secrets.token_hex(6)
        return cls(url=url, ts=f"tkbench:{token}:ts", count=f"tkbench:{token}:count")


class TaskRecorder:
    """The task side: ``record(i)`` stores the start time of task ``i``.

    One client per process, made on first use; a forked child makes its
    own (the pid check), so a pool is never shared across a fork.
    """

    def __init__(self, keys: RecorderKeys) -> None:
        self.keys = keys
        self._client: redis.Redis | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        return {"keys": self.keys}

    def __setstate__(self, state: dict[str, object]) -> None:
        keys = state["keys"]
        assert isinstance(keys, RecorderKeys)
        self.__init__(keys)  # type: ignore[misc]

    def _redis(self) -> redis.Redis:
        client = self._client
        if client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    # Blocking: a worker serving 1,000 groups runs 1,000 threads, more
                    # than redis-py's default pool of 100 connections allows at once.
                    pool = redis.BlockingConnectionPool.from_url(
                        self.keys.url, max_connections=RECORDER_CONNECTIONS, timeout=60
                    )
                    self._client = redis.Redis(connection_pool=pool)
                    self._pid = os.getpid()
                client = self._client
        return client

    def record(self, i: int) -> None:
        """``time.time()`` now, then one pipelined HSET + INCR (the peers' ``common.record``)."""
        t = time.time()
        pipe = self._redis().pipeline(transaction=False)
        pipe.hset(self.keys.ts, str(i), repr(t))
        pipe.incr(self.keys.count)
        pipe.execute()


class Recorder:
    """The driver side: what the tasks of one run recorded."""

    def __init__(self, keys: RecorderKeys) -> None:
        self.keys = keys
        self.redis = redis.Redis.from_url(keys.url)

    def reset(self) -> None:
        """Forget every record of this run."""
        self.redis.delete(self.keys.ts, self.keys.count)

    def distinct(self) -> int:
        """How many distinct tasks recorded a start."""
        return int(self.redis.hlen(self.keys.ts))

    def executions(self) -> int:
        """How many starts were recorded (more than ``distinct`` means duplicates)."""
        return int(self.redis.get(self.keys.count) or 0)

    def timestamps(self) -> dict[int, float]:
        """Task id to its start time (``time.time()``)."""
        raw = self.redis.hgetall(self.keys.ts)
        return {int(k): float(v) for k, v in raw.items()}

    def wait_for(self, n: int, timeout: float) -> bool:
        """Wait until ``n`` distinct tasks recorded, at most ``timeout`` s; True if they did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.distinct() >= n:
                return True
            time.sleep(POLL_INTERVAL)
        return self.distinct() >= n

    def close(self) -> None:
        """Delete this run's keys and close the client."""
        self.reset()
        self.redis.close()
