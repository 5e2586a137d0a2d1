"""A private PgBouncer in front of a private PostgreSQL, for tests of taskkit through a pooler.

``pgbouncer`` (Debian's package) refuses to run as root, so it is started as
root with ``-u postgres`` and drops to that user itself; it runs in the
foreground as a child of the test, stopped by its PID. Clients log in with
the server's own user and password (``auth_file``), and PgBouncer logs in
to the server the same way.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from types import TracebackType
from urllib.parse import quote

from .servers import START_TIMEOUT, STOP_TIMEOUT, PrivatePostgres, _directory, free_port

CONFIG = """\
[databases]
* = host=127.0.0.1 port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {directory}/users.txt
pool_mode = {pool_mode}
max_client_conn = 500
default_pool_size = {pool_size}
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
"""


class PgBouncer:
    """``pgbouncer`` with ``pool_mode`` in front of ``server``; ``url`` goes through it."""

    def __init__(
        self, server: PrivatePostgres, pool_mode: str = "transaction", pool_size: int = 20
    ) -> None:
        self.server = server
        self.dir = _directory("postgres")
        self.port = free_port()
        (self.dir / "users.txt").write_text(f'"postgres" "{server.password}"\n')
        config = CONFIG.format(
            server_port=server.port,
            port=self.port,
            directory=self.dir,
            pool_mode=pool_mode,
            pool_size=pool_size,
        )
        (self.dir / "pgbouncer.ini").write_text(config)
        for path in self.dir.iterdir():
            shutil.chown(path, "postgres", "postgres")
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def url_for(self, database: str = "postgres") -> str:
        """A URL through the pooler, as the server's superuser."""
        password = quote(self.server.password, safe="")
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for()

    def start(self) -> PgBouncer:
        self.process = subprocess.Popen(
            ["pgbouncer", "-u", "postgres", str(self.dir / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not start:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def _listening(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
            return True
        return False

    def log_tail(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def destroy(self) -> None:
        """Stop pgbouncer (the process this object started) and delete its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # a "safe shutdown": no new queries
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()
