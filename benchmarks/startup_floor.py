"""The floor under a worker's start: a spawned process that only opens the backend's driver.

    python -m benchmarks.startup_floor URL [--runs 5]

Any worker on these backends, under spawn, starts a fresh interpreter,
imports SQLAlchemy and the driver (or redis-py) and makes a round trip
before it can claim anything. This measures exactly that, with nothing
of taskkit: from ``Process.start()`` to the end of one ``SELECT 1`` (one
``PING``) in the child, and the CPU the child used. A worker's start minus
this floor is what taskkit itself costs. Imports nothing heavy at module
level: under spawn the child re-imports this module.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from urllib.parse import urlsplit

SQL_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "sqlite": "sqlite"}


def _open_and_ping(url: str, answer: Connection) -> None:
    scheme = urlsplit(url).scheme
    if scheme == "redis":
        import redis

        redis.Redis.from_url(url).ping()
    else:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url.replace(scheme, SQL_DRIVERS[scheme], 1))
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    answer.send((time.time(), time.process_time()))


def spawn_to_round_trip(url: str) -> tuple[float, float]:
    """Seconds from spawning a process to its first round trip, and the CPU it used."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_open_and_ping, args=(url, sender))
    started = time.time()
    process.start()
    done, cpu = receiver.recv()
    process.join(10)
    return done - started, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.startup_floor")
    ap.add_argument("url")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    runs = [spawn_to_round_trip(args.url) for _ in range(args.runs)]
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(json.dumps({"median_s": round(wall, 3), "median_cpu_s": round(cpu, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
