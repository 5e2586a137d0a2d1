"""Pub/sub plumbing: confirmed subscriptions and the wake-up listener thread.

A put publishes the group of every task due now on the namespace's wake
channel; ``watch_tasks`` runs a :class:`WakeListener` that calls back with
each group name. Wake-ups are only a shortcut: a missed one costs at most
a polling interval. The listener survives a lost connection: it logs one
line, backs off, and redis-py reconnects and subscribes again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskkit_core.outages import OutageLog

if TYPE_CHECKING:
    from redis.client import PubSub

    from .client import RedisClient

logger = logging.getLogger("taskkit.redis")

SUBSCRIBE_TIMEOUT = 5.0
"""Seconds to wait for the server to confirm a subscription."""

LISTEN_SLICE = 0.5
"""Seconds a listener blocks per read, so that ``close`` is noticed soon."""


def new_pubsub(client: RedisClient) -> PubSub:
    """A pub/sub object on its own connection of ``client``'s pool."""
    pubsub: PubSub = client.pubsub()  # type: ignore[no-untyped-call]  # unannotated in redis-py
    return pubsub


def subscribe(pubsub: PubSub, channel: str, timeout: float = SUBSCRIBE_TIMEOUT) -> None:
    """Subscribe and wait until the server confirms, so later messages are not missed."""
    pubsub.subscribe(channel)
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        message = pubsub.get_message(timeout=remaining)
        if message is not None and message["type"] == "subscribe":
            return
    raise TimeoutError(f"Redis did not confirm the subscription within {timeout} s")


class WakeListener:
    """A thread that calls ``callback(group)`` for every wake-up of a namespace."""

    def __init__(
        self,
        client: RedisClient,
        channel: str,
        callback: Callable[[str], None],
        scrub: Callable[[str], str] = str,
    ) -> None:
        self._client = client
        self._channel = channel
        self._callback = callback
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._pubsub: PubSub = new_pubsub(client)
        self._outage = OutageLog("wake-up listener", scrub)
        self._thread = threading.Thread(target=self._run, name="taskkit-redis-wake", daemon=True)

    def start(self, wait: float = SUBSCRIBE_TIMEOUT) -> WakeListener:
        """Start listening; wait up to ``wait`` s for the subscription (not an error if slow)."""
        self._thread.start()
        self._ready.wait(wait)
        return self

    def close(self) -> None:
        """Stop the thread and give its connection back."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(LISTEN_SLICE * 4)
        self._pubsub.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen_once()
            except Exception as exc:
                self._reset()
                self._stop.wait(self._outage.failed(exc))
            else:
                self._outage.succeeded()

    def _reset(self) -> None:
        """Drop a failed connection; the next round subscribes on a fresh one."""
        self._ready.clear()
        try:
            self._pubsub.close()
        except Exception:
            logger.debug("closing a failed pub/sub connection failed", exc_info=True)
        self._pubsub = new_pubsub(self._client)

    def _listen_once(self) -> None:
        if not self._ready.is_set():
            subscribe(self._pubsub, self._channel)
            self._ready.set()
        message = self._pubsub.get_message(timeout=LISTEN_SLICE)
        if message is not None:
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        try:
            self._callback(message["data"].decode("utf-8"))
        except Exception:
            logger.exception("wake-up callback failed")
