"""Private PostgreSQL and MariaDB servers for tests that stop and restart them.

Never the shared servers: each instance lives in its own temporary
directory, listens on 127.0.0.1 on a free port, asks for a password, and
is stopped (by its own PID or data directory) and deleted afterwards.
PostgreSQL refuses to run as root, so it runs as the ``postgres`` user
(``runuser``); MariaDB drops to ``mysql`` itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import pymysql


class PrivateServer(Protocol):
    url: str

    def stop(self, *, crash: bool = False) -> None:
        """Shut down cleanly, or (``crash``) like a power cut."""
        ...

    def start(self) -> None: ...

    def destroy(self) -> None: ...


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _directory(owner: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=f"taskkit-{owner}-"))
    shutil.chown(directory, owner, owner)
    return directory


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` as the postgres user, password authentication."""

    def __init__(self, password: str) -> None:
        self.dir = _directory("postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        password_file = self.dir / "password"
        password_file.write_text(password)
        shutil.chown(password_file, "postgres", "postgres")
        initdb = ["initdb", "-D", str(self.data), "-U", "postgres", "-A", "scram-sha-256"]
        self._as_postgres(*initdb, f"--pwfile={password_file}", "--no-sync")
        credentials = f"postgres:{quote(password, safe='')}"
        self.url = f"postgresql://{credentials}@127.0.0.1:{self.port}/postgres"
        self.start()

    def _as_postgres(self, *command: str) -> None:
        _run("runuser", "-u", "postgres", "--", *command)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        log = str(self.dir / "log")
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, *, crash: bool = False) -> None:
        mode = "immediate" if crash else "fast"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop(crash=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateMariaDB:
    """``mariadb-install-db`` + ``mariadbd`` with a password-protected user ``taskkit``."""

    def __init__(self, password: str) -> None:
        self.dir = _directory("mysql")
        self.data = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        install = ["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={self.data}"]
        _run(*install, "--auth-root-authentication-method=normal", "--skip-test-db")
        self.start()
        self._create_user(password)
        self.url = f"mysql://taskkit:{quote(password, safe='')}@127.0.0.1:{self.port}/test"

    def start(self) -> None:
        where = [f"--datadir={self.data}", f"--socket={self.socket}", f"--port={self.port}"]
        files = [f"--pid-file={self.dir / 'mariadbd.pid'}", f"--log-error={self.dir / 'error.log'}"]
        tuning = [
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
        ]
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=mysql", *where, *files, *tuning],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                pymysql.connect(unix_socket=str(self.socket), user="root").close()
                return
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)

    def _create_user(self, password: str) -> None:
        root = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        with root.cursor() as cursor:
            cursor.execute("CREATE DATABASE test")
            cursor.execute("CREATE USER 'taskkit'@'127.0.0.1' IDENTIFIED BY %s", (password,))
            cursor.execute("GRANT ALL ON test.* TO 'taskkit'@'127.0.0.1'")
        root.close()

    def stop(self, *, crash: bool = False) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        self.process.wait(60)

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(60)
        shutil.rmtree(self.dir, ignore_errors=True)


def can_run_private_servers() -> str | None:
    """None when this machine can start private servers, else the reason it cannot."""
    if os.geteuid() != 0:
        return "starting private servers as other users needs root (runuser)"
    for tool in ("runuser", "initdb", "pg_ctl", "mariadb-install-db", "mariadbd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None
