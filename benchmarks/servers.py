"""Private server instances on free ports in temp dirs (RELIABILITY.md section 4).

The shared servers are used by everyone's tests, so their server-wide
counters (Redis ``INFO commandstats``, MariaDB ``Questions``, PostgreSQL
statistics) count other people's queries too. The idle-cost measurement
and the peer comparison run on private instances instead: Redis, PostgreSQL
15 (with ``pg_stat_statements`` preloaded) and MariaDB, each started here
and stopped by its PID. Nothing here touches the shared servers.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until(check: object, what: str, timeout: float = START_TIMEOUT) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {timeout:.0f} s: {last}")


class PrivateServer(ABC):
    """A server process this harness started; ``stop`` ends it by PID and removes its dir."""

    kind: str = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"tkbench-{self.kind}-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "server.log"

    @abstractmethod
    def start(self) -> PrivateServer:
        """Start the server and wait until it answers."""

    @abstractmethod
    def url(self, database: str = "bench") -> str:
        """A taskkit URL for this server."""

    def _spawn(self, argv: list[str], *, user: str | None = None) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=user,
            )  # same process group as the caller: the driver's kill of a hung run reaches it

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process we started (``sig``, then SIGKILL) and delete its directory."""
        p = self.process
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivateServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RedisServer(PrivateServer):
    """redis-server without persistence, as the peers ran it (``--save "" --appendonly no``)."""

    kind = "redis"

    def start(self) -> RedisServer:
        import redis

        self._spawn(
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
                *("--save", "", "--appendonly", "no"),
            ]
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)
        _wait_until(client.ping, f"redis-server on port {self.port}")
        client.close()
        return self

    def url(self, database: str = "0") -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"


class PostgresServer(PrivateServer):
    """PostgreSQL 15 from ``initdb`` (trust auth), run as the postgres user."""

    kind = "postgres"

    def start(self) -> PostgresServer:
        shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            user="postgres",
            timeout=START_TIMEOUT,
        )
        self._spawn(
            [
                str(PG_BIN / "postgres"),
                *("-D", str(data), "-p", str(self.port), "-k", str(self.dir)),
                *("-c", "listen_addresses=127.0.0.1"),
                *("-c", "shared_preload_libraries=pg_stat_statements"),
            ],
            user="postgres",
        )
        _wait_until(lambda: self._probe("postgres"), f"PostgreSQL on port {self.port}")
        self.sql("postgres", "CREATE DATABASE bench")
        self.sql("bench", "CREATE EXTENSION pg_stat_statements")
        return self

    def _probe(self, database: str) -> bool:
        self.sql(database, "SELECT 1")
        return True

    def sql(
        self, database: str, statement: str, params: tuple[object, ...] | None = None
    ) -> list[tuple[object, ...]]:
        """Run one statement in autocommit as postgres; the rows it returned."""
        import psycopg

        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            cur = conn.execute(statement.encode(), params)
            return list(cur.fetchall()) if cur.description else []

    def dsn(self, database: str = "bench") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str = "bench") -> str:
        return self.dsn(database)

    def stop(self, sig: int = signal.SIGINT) -> None:
        super().stop(sig)  # SIGINT: PostgreSQL's fast shutdown


class MariaDBServer(PrivateServer):
    """mariadbd from ``mariadb-install-db``, no config files read, root without password."""

    kind = "mariadb"

    def start(self) -> MariaDBServer:
        shutil.chown(self.dir, "mysql", "mysql")
        data = self.dir / "data"
        subprocess.run(
            [
                *("mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=mysql"),
                *("--auth-root-authentication-method=normal", "--skip-test-db"),
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT * 2,
        )
        self._spawn(
            [
                *("/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", "--user=mysql"),
                *(f"--socket={self.dir / 'mysqld.sock'}", f"--port={self.port}"),
                *("--bind-address=127.0.0.1", "--character-set-server=utf8mb4"),
                *(f"--pid-file={self.dir / 'mysqld.pid'}", "--skip-name-resolve"),
            ]
        )
        _wait_until(lambda: self.sql("SELECT 1") is not None, f"MariaDB on port {self.port}")
        self.sql("CREATE DATABASE bench CHARACTER SET utf8mb4")
        return self

    def sql(self, statement: str, database: str | None = None) -> list[tuple[object, ...]]:
        """Run one statement as root; the rows it returned."""
        import pymysql

        conn = pymysql.connect(
            host="127.0.0.1", port=self.port, user="root", database=database, autocommit=True
        )
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def url(self, database: str = "bench") -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"


SERVERS: dict[str, type[PrivateServer]] = {
    "redis": RedisServer,
    "postgres": PostgresServer,
    "mariadb": MariaDBServer,
}


@contextlib.contextmanager
def running(kind: str) -> Iterator[PrivateServer]:
    """A started private server of ``kind`` (a key of SERVERS), stopped on exit."""
    server = SERVERS[kind]()
    try:
        yield server.start()
    finally:
        server.stop()
