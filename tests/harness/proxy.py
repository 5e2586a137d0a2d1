"""A TCP proxy that injects network faults between clients and a server.

It runs an asyncio loop on a background thread. Modes:

- ``pass``: forward both ways;
- ``latency``: delay every chunk by ``delay`` s plus up to ``jitter`` s;
- ``blackhole``: accept connections and forward nothing (both ways);
- ``half_open``: forward client to server, drop server to client;
- :meth:`reset_all` closes every open connection at once (RST-like);
- :meth:`half_open_after` turns ``half_open`` on right after a request that
  contains given bytes has passed (its reply is the first one dropped).
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from types import TracebackType


class FaultProxy:
    """Listens on 127.0.0.1:<port> and forwards to ``target``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self.delay = 0.0
        self.jitter = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._trigger: bytes | None = None

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return self

    def set_mode(self, mode: str, delay: float = 0.0, jitter: float = 0.0) -> None:
        assert mode in {"pass", "latency", "blackhole", "half_open"}, mode
        self.mode, self.delay, self.jitter = mode, delay, jitter

    def half_open_after(self, marker: bytes) -> None:
        """Switch to ``half_open`` once a client chunk holding ``marker`` is forwarded."""
        self._trigger = marker

    def reset_all(self) -> None:
        """Abort every open connection (clients see a reset)."""
        asyncio.run_coroutine_threadsafe(self._abort_all(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        sock: socket.socket = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer, upstream=True),
            self._pipe(up_reader, writer, upstream=False),
            return_exceptions=True,
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        while chunk := await reader.read(65536):
            if self.mode == "blackhole" or (self.mode == "half_open" and not upstream):
                continue
            if self.mode == "latency":
                await asyncio.sleep(self.delay + random.uniform(0, self.jitter))
            if upstream and self._trigger is not None and self._trigger in chunk:
                self.mode, self._trigger = "half_open", None  # before the reply can come
            writer.write(chunk)
            await writer.drain()
        writer.close()

    async def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._abort_all()
        await self._server.wait_closed()
