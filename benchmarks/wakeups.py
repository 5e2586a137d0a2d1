"""The ways a MySQL/MariaDB worker could hear of a new task, measured side by side.

``python -m benchmarks.wakeups --url mysql://root@127.0.0.1:3306/test``

For each option: how long a wake-up takes to reach a waiting session
(median and p99 of ``--rounds``), what it adds to a single put (round trips
and time), and what a process that waits on it sends while idle:

- ``look``: taskkit's choice (``taskkit_sql.duewatch``): a range probe of
  the claim index for due tasks, paced by activity. Puts are unchanged.
- ``counter``: a one-row table bumped by every put in the put's
  transaction, polled by primary key. Single puts become a transaction of
  two writes, and concurrent puts queue on the row until each commits:
  ``--producers`` threads put at once, with and without the bump (three
  runs of each in turn, median). Single puts alternate too.
- ``get_lock``: the waiter blocks in ``GET_LOCK(name, timeout)`` on a lock
  the producer holds; the producer rings by releasing and taking it again.
- ``kill``: the waiter blocks in ``SELECT SLEEP(n)``; the producer ends it
  with ``KILL QUERY <id>``.

Scratch tables ``tkw_<random>_*`` are created and dropped; nothing of
taskkit's is touched.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from taskkit_sql.options import OPTION_NAMES
from taskkit_sql.urls import parse_sql_url


def _ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


@contextmanager
def _cursor(engine: Engine) -> Iterator[Any]:
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit(True)  # type: ignore[union-attr]
        cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
        yield cursor
    finally:
        raw.close()


def _timed(work: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def _alternating(
    first: Callable[[], object], second: Callable[[], object], rounds: int
) -> tuple[list[float], list[float]]:
    """Times of ``first`` and ``second``, run in turn (the machine's noise hits both alike)."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a += _timed(first, 1)
        b += _timed(second, 1)
    return a, b


def _put_rate(engine: Engine, put: Callable[[Any], None], producers: int, seconds: float) -> float:
    """Puts per second of ``producers`` threads, each on its own connection."""
    counts = [0] * producers
    stop = time.monotonic() + seconds

    def produce(k: int) -> None:
        with _cursor(engine) as cursor:
            while time.monotonic() < stop:
                put(cursor)
                counts[k] += 1

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def _blocking_wake(engine: Engine, wait_sql: str, ring: Callable[[Any, int], None]) -> float:
    """Seconds from ``ring(producer, waiter_id)`` to the return of the waiter's ``wait_sql``."""
    returned: list[float] = []
    ended: list[BaseException] = []
    ready = threading.Event()
    with _cursor(engine) as producer, _cursor(engine) as waiter:
        waiter.execute("SELECT CONNECTION_ID()")
        waiter_id = int(waiter.fetchone()[0])

        def wait() -> None:
            ready.set()
            try:
                waiter.execute(wait_sql)
                waiter.fetchall()
            except Exception as exc:  # KILL QUERY ends the wait with an error (1317)
                ended.append(exc)
            returned.append(time.perf_counter())

        thread = threading.Thread(target=wait)
        thread.start()
        ready.wait()
        time.sleep(0.05)  # the waiter is blocked in the server now
        rang = time.perf_counter()
        ring(producer, waiter_id)
        thread.join(10)
    return returned[0] - rang


def measure(url: str, rounds: int, producers: int, seconds: float) -> list[dict[str, Any]]:
    engine = create_engine(parse_sql_url(url, OPTION_NAMES).sqlalchemy_url, poolclass=NullPool)
    p = f"tkw_{secrets.token_hex(4)}"
    rows, marker = f"{p}_rows", f"{p}_marker"
    lock = f"{p}_bell"

    def sql(text: str) -> str:
        return text.format(rows=rows, marker=marker)

    with _cursor(engine) as c:
        c.execute(
            sql(
                "CREATE TABLE {rows} (id BIGINT AUTO_INCREMENT PRIMARY KEY, g VARBINARY(64), "
                "state SMALLINT, due DOUBLE, KEY claim (g, state, due))"
            )
        )
        c.execute(sql("CREATE TABLE {marker} (id INT PRIMARY KEY, n BIGINT NOT NULL)"))
        c.execute(sql("INSERT INTO {marker} VALUES (0, 0)"))
    insert = sql("INSERT INTO {rows} (g, state, due) VALUES ('g', 0, UNIX_TIMESTAMP(NOW(6)))")
    bump = sql("UPDATE {marker} SET n = n + 1 WHERE id = 0")

    def plain_put(cursor: Any) -> None:
        cursor.execute(insert)

    def counted_put(cursor: Any) -> None:
        cursor.execute("START TRANSACTION")
        cursor.execute(insert)
        cursor.execute(bump)
        cursor.execute("COMMIT")

    look = sql(
        "SELECT DISTINCT g FROM {rows} WHERE g IN ('w') AND state = 0 "
        "AND due <= UNIX_TIMESTAMP(NOW(6))"
    )
    poll = sql("SELECT n FROM {marker}")
    try:
        with _cursor(engine) as c:
            look_rt = _ms(_timed(lambda: (c.execute(look), c.fetchall()), rounds))
            poll_rt = _ms(_timed(lambda: (c.execute(poll), c.fetchall()), rounds))
            plain_times, counted_times = _alternating(
                lambda: plain_put(c), lambda: counted_put(c), rounds
            )
            plain, counted = _ms(plain_times), _ms(counted_times)
            c.execute(f"SELECT GET_LOCK('{lock}', 0)")
            c.fetchall()
            ring = _ms(
                _timed(
                    lambda: (
                        c.execute(f"SELECT RELEASE_LOCK('{lock}')"),
                        c.execute(f"SELECT GET_LOCK('{lock}', 0)"),
                    ),
                    rounds,
                )
            )
            c.execute(f"SELECT RELEASE_LOCK('{lock}')")
        rates = [
            (
                _put_rate(engine, plain_put, producers, seconds),
                _put_rate(engine, counted_put, producers, seconds),
            )
            for _ in range(3)
        ]
        plain_rate = statistics.median(rate for rate, _ in rates)
        counted_rate = statistics.median(rate for _, rate in rates)
        lock_wakes = [_lock_wake(engine, lock) for _ in range(max(5, rounds // 10))]
        kill_wakes = [
            _blocking_wake(engine, "SELECT SLEEP(5)", _kill) for _ in range(max(5, rounds // 10))
        ]
    finally:
        with _cursor(engine) as c:
            c.execute(sql("DROP TABLE IF EXISTS {rows}, {marker}"))
        engine.dispose()
    return [
        {
            "option": "look (chosen)",
            "wake p50/p99 ms": "gap/2 + look: {:.2f} / {:.2f} per look".format(*look_rt),
            "put adds": f"nothing ({plain[0]:.2f} ms a put; "
            f"{producers} producers {plain_rate:.0f} puts/s)",
            "idle": "1 look per SLOW (1 s)",
        },
        {
            "option": "counter",
            "wake p50/p99 ms": "gap/2 + poll: {:.2f} / {:.2f} per poll".format(*poll_rt),
            "put adds": f"3 more round trips, a hot row ({counted[0]:.2f} ms a put; "
            f"{producers} producers {counted_rate:.0f} puts/s)",
            "idle": "1 poll per gap",
        },
        {
            "option": "get_lock",
            "wake p50/p99 ms": "{:.2f} / {:.2f}".format(*_ms(lock_wakes)),
            "put adds": f"2 round trips to ring ({ring[0]:.2f} ms), only by the one holder",
            "idle": "1 wait per timeout",
        },
        {
            "option": "kill",
            "wake p50/p99 ms": "{:.2f} / {:.2f}".format(*_ms(kill_wakes)),
            "put adds": "find the waiters + 1 KILL per waiting process",
            "idle": "1 wait per timeout",
        },
    ]


def _lock_wake(engine: Engine, lock: str) -> float:
    with _cursor(engine) as holder:
        holder.execute(f"SELECT GET_LOCK('{lock}', 0)")

        def release(producer: Any, waiter_id: int) -> None:
            holder.execute(f"SELECT RELEASE_LOCK('{lock}')")

        return _blocking_wake(
            engine, f"SELECT GET_LOCK('{lock}', 5), RELEASE_LOCK('{lock}')", release
        )


def _kill(producer: Any, waiter_id: int) -> None:
    producer.execute(f"KILL QUERY {waiter_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a mysql:// or mariadb:// URL")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="each concurrent put run")
    args = parser.parse_args()
    results = measure(args.url, args.rounds, args.producers, args.seconds)
    for row in results:
        print(" | ".join(f"{key}: {value}" for key, value in row.items()))


if __name__ == "__main__":
    main()
