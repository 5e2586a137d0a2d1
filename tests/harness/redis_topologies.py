"""Private Redis Sentinel and Redis Cluster deployments for tests, built on ``servers``.

``SentinelGroup``: a primary, a replica and three Sentinel processes
(``redis-server --sentinel``) watching them as the service ``mymaster``.
``ClusterNodes``: three ``redis-server --cluster-enabled yes`` nodes joined
with ``redis-cli --cluster create`` (no replicas). Every process listens on
127.0.0.1 on a free port, lives in the test's own directory, and is stopped
by its own PID; nothing here touches the shared servers.
"""

from __future__ import annotations

import signal
import subprocess
import time
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import redis

from .servers import STOP_TIMEOUT, RedisServer, free_port

SERVICE = "mymaster"
QUORUM = 2


def _wait(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def _credentials(password: str | None) -> str:
    return f":{quote(password, safe='')}@" if password else ""


class SentinelServer(RedisServer):
    """One Sentinel process (``redis-server sentinel.conf --sentinel``)."""

    kind = "redis-sentinel"

    def __init__(
        self, directory: Path, primary_port: int, password: str | None, down_after_ms: int
    ) -> None:
        super().__init__(directory, password=password)
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1",
            f"dir {directory}",
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} {QUORUM}",
            f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}",
            f"sentinel failover-timeout {SERVICE} 10000",
        ]
        if password:  # the data nodes and the Sentinels share one password
            quoted = '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines += [
                f"sentinel auth-pass {SERVICE} {quoted}",
                f"requirepass {quoted}",
                f"sentinel sentinel-pass {quoted}",
            ]
        self.config = directory / "sentinel.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return ["redis-server", str(self.config), "--sentinel"]

    def stop(self, *, crash: bool = False) -> None:
        self._signal(signal.SIGKILL if crash else signal.SIGTERM)


class Deployment(ABC):
    """Several server processes started together; ``destroy`` kills every one."""

    @abstractmethod
    def servers(self) -> list[RedisServer]:
        """Every process of the deployment."""

    def destroy(self) -> None:
        for server in self.servers():
            server.destroy()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.destroy()


class SentinelGroup(Deployment):
    """A primary, a replica and three Sentinels for the service ``mymaster``.

    ``url`` is the ``redis+sentinel://`` URL of the group; with a password,
    the data nodes and the Sentinels require the same one and the URL says
    ``sentinel_auth=yes``.
    """

    def __init__(
        self, directory: Path, password: str | None = None, *, down_after_ms: int = 1000
    ) -> None:
        self.password = password
        durable = ["--appendonly", "yes", "--appendfsync", "always"]
        durable += ["--repl-diskless-sync-delay", "0"]  # a replica resyncs at once, not after 5 s
        auth = ["--masterauth", password] if password else []
        self.primary = RedisServer(_subdir(directory, "a"), [*durable, *auth], password=password)
        follow = ["--replicaof", "127.0.0.1", str(self.primary.port)]
        self.replica = RedisServer(
            _subdir(directory, "b"), [*durable, *auth, *follow], password=password
        )
        self.sentinels = [
            SentinelServer(_subdir(directory, f"s{i}"), self.primary.port, password, down_after_ms)
            for i in range(3)
        ]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        query = "?sentinel_auth=yes" if self.password else ""
        return f"redis+sentinel://{_credentials(self.password)}{hosts}/{SERVICE}/0{query}"

    def start(self) -> SentinelGroup:
        """Start every process; return once the Sentinels know the replica and each other."""
        self.primary.start()
        self.replica.start()
        for sentinel in self.sentinels:
            sentinel.start()
        _wait("the Sentinels' discovery of each other and the replica", self._settled)
        return self

    def _settled(self) -> bool:
        for sentinel in self.sentinels:
            state = self._master_state(sentinel)
            if state is None or state["num-other-sentinels"] < 2 or state["num-slaves"] < 1:
                return False
        return True

    def _master_state(self, sentinel: SentinelServer) -> dict[str, Any] | None:
        client = sentinel.client(socket_timeout=2)
        try:
            state: Any = client.sentinel_master(SERVICE)
            return dict(state)
        except redis.RedisError:
            return None
        finally:
            client.close()

    def primary_port(self) -> int | None:
        """The port of the primary as the first Sentinel that answers sees it."""
        for sentinel in self.sentinels:
            client = sentinel.client(socket_timeout=2)
            try:
                address: Any = client.sentinel_get_master_addr_by_name(SERVICE)
            except redis.RedisError:
                continue
            finally:
                client.close()
            if address:
                return int(address[1])
        return None

    def server_on(self, port: int) -> RedisServer:
        return self.primary if self.primary.port == port else self.replica

    def failover(self, *, kill: bool = False, timeout: float = 60.0) -> RedisServer:
        """Fail over to the other data node; return the new primary once it serves writes.

        ``kill``: SIGKILL the primary and let the Sentinels agree that it is
        down; otherwise ask them with ``SENTINEL FAILOVER``. The old primary,
        if alive, is still a primary for a while: see ``wait_replicated``.
        """
        old_port = self.primary_port()
        assert old_port is not None, "no Sentinel knows the primary"
        old = self.server_on(old_port)
        new = self.replica if old is self.primary else self.primary
        if kill:
            old.kill()
        else:
            client = self.sentinels[0].client(socket_timeout=5)
            try:
                client.execute_command("SENTINEL", "FAILOVER", SERVICE)  # type: ignore[no-untyped-call]
            finally:
                client.close()
        _wait("the failover", lambda: self._serves_as_primary(new), timeout)
        return new

    def wait_replicated(self, timeout: float = 60.0) -> None:
        """Wait until every live data node but the primary is its replica, in sync."""
        port = self.primary_port()
        for server in (self.primary, self.replica):
            if server.port != port and server.pids():
                _wait("a replica in sync", lambda s=server: _in_sync(s), timeout)

    def _serves_as_primary(self, server: RedisServer) -> bool:
        return self.primary_port() == server.port and _role(server) == "master"

    def servers(self) -> list[RedisServer]:
        return [*self.sentinels, self.primary, self.replica]


class ClusterNodes(Deployment):
    """Three cluster-enabled redis-server nodes holding all 16384 slots, no replicas."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        self.password = password
        self.nodes: list[RedisServer] = []
        for index in range(3):
            node_dir = _subdir(directory, f"n{index}")
            settings = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
                "--cluster-port",  # the bus port; port + 10000 may be taken or out of range
                str(free_port()),
                "--cluster-node-timeout",
                "5000",
            ]
            if password:
                settings += ["--masterauth", password]
            self.nodes.append(RedisServer(node_dir, settings, password=password))

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)
        return f"redis+cluster://{_credentials(self.password)}{hosts}/0"

    def start(self) -> ClusterNodes:
        """Start the nodes, join them, and return once every node reports the cluster ok."""
        for node in self.nodes:
            node.start()
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        create = ["--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"]
        subprocess.run(
            ["redis-cli", *auth, *create],
            check=True,
            capture_output=True,
            timeout=STOP_TIMEOUT,
        )
        _wait("the cluster's state ok", self._ok)
        return self

    def _ok(self) -> bool:
        for node in self.nodes:
            client = node.client(socket_timeout=2)
            try:
                if client.cluster("INFO").get("cluster_state") != "ok":
                    return False
            finally:
                client.close()
        return True

    def servers(self) -> list[RedisServer]:
        return list(self.nodes)


def _replication(server: RedisServer) -> dict[str, Any]:
    """INFO replication of ``server``; empty when it does not answer."""
    client = server.client(socket_timeout=2)
    try:
        info: Any = client.info("replication")
        return dict(info)
    except redis.RedisError:
        return {}
    finally:
        client.close()


def _role(server: RedisServer) -> str | None:
    """``master`` or ``slave`` as the server says, None when it does not answer."""
    role = _replication(server).get("role")
    return None if role is None else str(role)


def _in_sync(server: RedisServer) -> bool:
    info = _replication(server)
    return info.get("role") == "slave" and info.get("master_link_status") == "up"


def _subdir(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(parents=True, exist_ok=True)
    return path
