"""Private PostgreSQL, MariaDB and Redis servers for tests that break them.

Never the shared servers: each instance lives in its own temporary
directory, listens on 127.0.0.1 on a free port, and is stopped by its own
PID (or data directory) and deleted afterwards. Every instance offers the
same controls: ``start``, ``stop(crash=...)`` (a clean shutdown or a power
cut), ``pause``/``resume`` (SIGSTOP/SIGCONT of *every* process of the
instance, so a stalled server keeps its sockets open but answers nothing),
``restart``, ``destroy`` and its ``url``.

PostgreSQL refuses to run as root, so it runs as the ``postgres`` user
(``runuser``); MariaDB drops to ``mysql`` itself (RELIABILITY.md section 4).
Deployments of several Redis processes (a Sentinel group, a cluster) are
built from ``RedisServer`` in ``redis_topologies``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import pymysql
import redis

START_TIMEOUT = 60.0
START_ATTEMPTS = 3
"""Starts of a private server that exits at once (its free port was taken) before giving up."""
STOP_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _directory(owner: str | None) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=f"taskkit-{owner or 'redis'}-"))
    if owner is not None:
        shutil.chown(directory, owner, owner)
    return directory


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def _signal_all(pids: Sequence[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # a backend that exited meanwhile
            os.kill(pid, signum)


def _children(parent: int) -> list[int]:
    """PIDs whose parent is ``parent`` (PostgreSQL's backends and helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == parent:
            found.append(int(entry.name))
    return found


def missing_tool(kind: str) -> str | None:
    """None when this machine can start a private ``kind`` server, else why not."""
    tools = {
        "postgresql": ("runuser", "initdb", "pg_ctl"),
        "mysql": ("mariadb-install-db", "mariadbd"),
        "redis": ("redis-server",),
    }[kind]
    if kind != "redis" and os.geteuid() != 0:
        return "starting private servers as other users needs root (runuser)"
    for tool in tools:
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def can_run_private_servers() -> str | None:
    """None when private PostgreSQL and MariaDB servers can start, else the reason."""
    return missing_tool("postgresql") or missing_tool("mysql")


class PrivateServer(ABC):
    """One server instance this harness started and alone controls."""

    kind = ""
    url: str
    port: int

    @abstractmethod
    def start(self) -> Any:
        """Start the server and wait until it accepts connections."""

    @abstractmethod
    def stop(self, *, crash: bool = False) -> None:
        """Shut down cleanly, or (``crash``) like a power cut; waits for the exit."""

    @abstractmethod
    def pids(self) -> list[int]:
        """Every process of the instance (the server and, for PostgreSQL, its backends)."""

    @abstractmethod
    def destroy(self) -> None:
        """Kill whatever still runs and delete the instance's directory."""

    @abstractmethod
    def connections(self, user: str | None = None) -> int:
        """Client connections the server holds now (of ``user``, or of taskkit)."""

    def pause(self) -> None:
        """SIGSTOP every process of the instance: connections stay open, nothing answers."""
        _signal_all(self.pids(), signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT every process of the instance (backends first, the parent last)."""
        _signal_all(list(reversed(self.pids())), signal.SIGCONT)

    def restart(self, *, crash: bool = False, outage: float = 0.0) -> float:
        """Stop, stay down ``outage`` s, start; the wall time it accepted connections again."""
        self.stop(crash=crash)
        time.sleep(outage)
        self.start()
        return time.time()

    def __enter__(self) -> PrivateServer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()


class PrivatePostgres(PrivateServer):
    """``initdb`` + ``pg_ctl`` as the postgres user, password authentication.

    ``url`` connects as the superuser ``postgres`` to the database ``postgres``.
    """

    kind = "postgresql"

    def __init__(self, password: str, settings: Sequence[str] = ()) -> None:
        self.dir = _directory("postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.settings = list(settings)
        self.password = password
        password_file = self.dir / "password"
        password_file.write_text(password)
        shutil.chown(password_file, "postgres", "postgres")
        initdb = ["initdb", "-D", str(self.data), "-U", "postgres", "-A", "scram-sha-256"]
        self._as_postgres(*initdb, f"--pwfile={password_file}", "--no-sync")
        self.url = self.url_for("postgres", password)
        self.start()

    def url_for(self, user: str, password: str, database: str = "postgres") -> str:
        """A URL of this server for another role."""
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *command: str) -> None:
        _run("runuser", "-u", "postgres", "--", *command)

    def start(self) -> PrivatePostgres:
        extra = "".join(f" -c {setting}" for setting in self.settings)
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1{extra}"
        log = str(self.dir / "log")
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        return self

    def stop(self, *, crash: bool = False) -> None:
        mode = "immediate" if crash else "fast"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def postmaster(self) -> int | None:
        path = self.data / "postmaster.pid"
        try:
            return int(path.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def pids(self) -> list[int]:
        postmaster = self.postmaster()
        return [] if postmaster is None else [postmaster, *_children(postmaster)]

    def sql(self, statement: str, params: Sequence[Any] = (), url: str | None = None) -> Any:
        """Run one statement in autocommit (as the superuser); its rows, if any."""
        import psycopg

        with psycopg.connect(_libpq(url or self.url), autocommit=True) as conn:
            cursor = conn.execute(statement.encode(), list(params) or None)
            return cursor.fetchall() if cursor.description else None

    def connections(self, user: str | None = None) -> int:
        rows = self.sql(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'taskkit' AND usename = coalesce(%s, usename)",
            [user],
        )
        return int(rows[0][0])

    def destroy(self) -> None:
        self.resume()  # a paused instance cannot shut down
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop(crash=True)
            except subprocess.SubprocessError:
                _signal_all(self.pids(), signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class PrivateMariaDB(PrivateServer):
    """``mariadb-install-db`` + ``mariadbd`` with a password-protected user ``taskkit``.

    ``url`` connects as ``taskkit`` (all privileges on the database ``test``);
    :meth:`sql` runs as root over the instance's Unix socket.
    """

    kind = "mysql"

    def __init__(self, password: str, settings: Sequence[str] = ()) -> None:
        self.dir = _directory("mysql")
        self.data = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        self.port = free_port()
        self.settings = list(settings)
        self.process: subprocess.Popen[bytes] | None = None
        install = ["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={self.data}"]
        _run(*install, "--auth-root-authentication-method=normal", "--skip-test-db")
        try:
            self.start()
            self.sql("CREATE DATABASE test")
            self.create_user("taskkit", password, "ALL")
        except BaseException:
            self.destroy()  # no fixture gets this object: nobody else would stop the server
            raise
        self.url = self.url_for("taskkit", password)

    def url_for(self, user: str, password: str, database: str = "test") -> str:
        """A URL of this server for another user."""
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"mysql://{credentials}@127.0.0.1:{self.port}/{database}"

    def create_user(self, user: str, password: str, privileges: str) -> None:
        """A user on 127.0.0.1 with ``privileges`` (e.g. "SELECT, INSERT") on ``test``."""
        self.sql(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY %s", [password])
        self.sql(f"GRANT {privileges} ON test.* TO '{user}'@'127.0.0.1'")

    def start(self) -> PrivateMariaDB:
        """Start mariadbd; one that exits at once (its port taken meanwhile) gets a new port."""
        for attempt in range(START_ATTEMPTS):
            if self._start_once():
                return self
            if attempt + 1 < START_ATTEMPTS:
                self.port = free_port()
        raise RuntimeError(f"mariadbd did not start; {self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.dir / "error.log"
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        return "its error log ends:\n" + "\n".join(tail)

    def _start_once(self) -> bool:
        """True once mariadbd answers; False when it exited first."""
        where = [f"--datadir={self.data}", f"--socket={self.socket}", f"--port={self.port}"]
        files = [f"--pid-file={self.dir / 'mariadbd.pid'}", f"--log-error={self.dir / 'error.log'}"]
        tuning = [
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
            *self.settings,
        ]
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=mysql", *where, *files, *tuning],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        while True:
            try:
                pymysql.connect(unix_socket=str(self.socket), user="root").close()
                return True
            except Exception as exc:  # not up yet (seen once: an error this clause did not name)
                if self.process.poll() is not None:
                    return False
                waited = time.monotonic() - started
                if waited > START_TIMEOUT:
                    raise RuntimeError(
                        f"mariadbd (pid {self.process.pid}) did not answer on {self.socket} "
                        f"within {waited:.0f} s (socket file there: {self.socket.exists()}): "
                        f"{exc}; {self._log_tail()}"
                    ) from exc
                time.sleep(0.1)

    def sql(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement as root; its rows, if any."""
        root = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        try:
            with root.cursor() as cursor:
                cursor.execute(statement, list(params) or None)
                return cursor.fetchall() if cursor.description else None
        finally:
            root.close()

    def connections(self, user: str | None = None) -> int:
        rows = self.sql(
            "SELECT count(*) FROM information_schema.processlist WHERE user = %s",
            [user or "taskkit"],
        )
        return int(rows[0][0])

    def stop(self, *, crash: bool = False) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        self.process.wait(STOP_TIMEOUT)

    def pids(self) -> list[int]:
        alive = self.process is not None and self.process.poll() is None
        return [self.process.pid] if alive and self.process is not None else []

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer(PrivateServer):
    """One redis-server process with fixed port, directory and settings, restartable.

    ``settings`` are extra command-line options (``"--appendonly", "yes"``).
    Persistence is off unless a setting turns it on (``--save ""``).
    """

    kind = "redis"

    def __init__(
        self,
        directory: Path | None = None,
        settings: Sequence[str] = (),
        *,
        port: int | None = None,
        password: str | None = None,
        tls: bool = False,
    ) -> None:
        self.directory = directory or _directory(None)
        self._own_directory = directory is None
        self.settings = list(settings)
        self.port = port or free_port()
        self.password = password
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:  # type: ignore[override]
        credentials = f":{quote(self.password, safe='')}@" if self.password else ""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{credentials}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        port = (
            ["--port", "0", "--tls-port", str(self.port)]
            if self.tls
            else ["--port", str(self.port)]
        )
        auth = ["--requirepass", self.password] if self.password else []
        where = ["--bind", "127.0.0.1", "--dir", str(self.directory)]
        return [
            "redis-server",
            *port,
            *where,
            "--save",
            "",
            "--daemonize",
            "no",
            *auth,
            *self.settings,
        ]

    def start(self) -> RedisServer:
        """Start the server and wait until it answers."""
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - kept by the process
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def client(self, **kwargs: Any) -> redis.Redis:
        """A plain redis-py client of this server (the caller closes it)."""
        return redis.Redis(port=self.port, password=self.password, **kwargs)

    def _answers(self) -> bool:
        if self.tls:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        client = self.client(socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self, *, crash: bool = False) -> None:
        """``SHUTDOWN NOSAVE`` (the AOF is flushed), or SIGKILL with ``crash``."""
        if crash or self.tls:
            self._signal(signal.SIGKILL)
            return
        client = self.client(socket_timeout=5)
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        finally:
            client.close()
        if self.process is not None:
            self.process.wait(timeout=STOP_TIMEOUT)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the server (a crash) and wait for it to exit."""
        self.stop(crash=True)

    def pids(self) -> list[int]:
        alive = self.process is not None and self.process.poll() is None
        return [self.process.pid] if alive and self.process is not None else []

    def connections(self, user: str | None = None) -> int:
        client = self.client(socket_timeout=5)
        try:
            clients = client.client_list()
            return sum(1 for c in clients if user is None or c.get("user") == user) - 1
        finally:
            client.close()

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signum)  # only the process this object started
            self.process.wait(timeout=30)
        self.process = None

    def log_tail(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""
