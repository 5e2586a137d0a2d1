"""Stop signals (SIGINT, SIGTERM) counted as the user's actions, not as deliveries.

A worker's first stop action drains (claim nothing more, let running tasks
finish within the shutdown timeout); the second aborts (put running tasks
back in the queue, exit at once), however soon it follows the first.

One action can reach a process as several copies. A terminal's Ctrl-C goes
to every process of the foreground process group, so a wrapper in that group
that passes signals on to its child (``uv run`` does on a second Ctrl-C;
``honcho`` turns Ctrl-C into SIGTERM) delivers the same keypress twice;
``kill -TERM -PGID`` and systemd's control-group stop do the same with
SIGTERM. taskkit 0.3 merged copies less than a second apart, which also
swallowed a real second Ctrl-C. Here the copies are told apart by their
sender, which the kernel reports with each signal (siginfo):

- a **relay** is a copy sent by one of this process's ancestors that is in
  this process's own process group: it got the group-wide signal too and is
  passing it on;
- every other copy is **direct**: from the kernel (a terminal key: no
  sender pid), or from any process that is not such an ancestor (``kill``,
  systemd, a process manager in another group, a test).

An action yields at most one direct copy, and at most one copy per relaying
ancestor, so the actions so far are the larger of the direct count and any
one relay's count. Signal numbers are not compared, since a wrapper may
translate one signal into another. Where copies are ambiguous the count errs
toward draining: a relay's own signal followed by a direct one (``kill`` the
wrapper, then Ctrl-C) counts once, and one more signal is needed to abort.

Reading the sender needs the signal blocked in every thread and taken with
``sigtimedwait`` on a thread of ours. Blocked signals are inherited by the
threads started later and by their subprocesses, so only signals that task
code can live without are blocked (see each caller). A copy that reaches the
ordinary handler anyway (a thread started before the listener does not block
it; a platform without ``sigtimedwait``) has no known sender and counts as
direct.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

logger = logging.getLogger("taskkit.process")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CAN_WAIT = hasattr(signal, "sigtimedwait")
"""False on macOS: there every copy comes through the ordinary handler."""
POLL = 0.1
"""Seconds the listener waits per turn (how late a copy without sender is counted)."""
KERNEL = 0
"""The sender of a copy the kernel raised itself (a terminal's Ctrl-C)."""


@dataclass(frozen=True)
class Copy:
    """One delivered stop signal and its sender's pid (KERNEL; None when not known)."""

    signum: int
    sender: int | None


@dataclass(frozen=True)
class Stopped:
    """How a worker command or supervisor ended."""

    signum: int | None = None
    """The signal of the last counted action (None: stopped by control events)."""
    forced: bool = False
    """A second action cut the drain short."""

    @property
    def exit_code(self) -> int:
        """0 after a drain; 128 + the signal after a forced stop (130 Ctrl-C, 143 SIGTERM)."""
        return 128 + self.signum if self.forced and self.signum else 0


class ActionCount:
    """Turns copies into actions: max(direct copies, copies from any one relay)."""

    def __init__(self, relays: Collection[int]) -> None:
        self.relays = frozenset(relays)
        self.actions = 0
        self._direct = 0
        self._relayed: Counter[int] = Counter()

    def add(self, copy: Copy) -> bool:
        """Count ``copy``; True when it is a new action, not a copy of a counted one."""
        if copy.sender is not None and copy.sender in self.relays:
            self._relayed[copy.sender] += 1
        else:
            self._direct += 1
        actions = max([self._direct, *self._relayed.values()])
        new, self.actions = actions > self.actions, actions
        return new


def relaying_ancestors() -> frozenset[int]:
    """This process's ancestors in its own process group, nearest first (Linux /proc)."""
    group, found, pid = os.getpgrp(), set(), os.getppid()
    while pid > 1 and _group_of(pid) == group:
        found.add(pid)
        pid = _parent_of(pid)
    return frozenset(found)


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0  # no /proc: only the parent is known
    return int(stat.rpartition(")")[2].split()[1])


def sender_of(info: signal.struct_siginfo) -> int:
    """The pid that sent a signal, or KERNEL (si_code > 0: raised by the kernel)."""
    return info.si_pid if info.si_code <= 0 else KERNEL


class StopSignals:
    """Counts stop actions on a thread of its own and calls ``on_action(n, signum)``.

    ``waited`` signals are blocked and read with their sender; ``handled``
    ones go through an ordinary handler (use it for signals whose blocking
    task code would inherit). Use as a context manager in the main thread:
    on exit the handlers and the signal mask are restored, and copies still
    pending are dropped.
    """

    def __init__(
        self,
        on_action: Callable[[int, int], None],
        *,
        waited: Collection[int] = STOP_SIGNALS,
        handled: Collection[int] = (),
    ) -> None:
        self.on_action = on_action
        self.waited = set(waited) if CAN_WAIT else set()
        self.handled = set(handled) | (set() if CAN_WAIT else set(waited))
        self._unknown: queue.SimpleQueue[Copy] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="taskkit-signals", daemon=True)
        self._previous: dict[int, object] = {}
        self._mask: set[int] = set()
        self._count = ActionCount(())

    def __enter__(self) -> StopSignals:
        self._count = ActionCount(relaying_ancestors())
        for signum in self.waited | self.handled:
            self._previous[signum] = signal.signal(signum, self._ordinary)
        if self.waited:
            self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, self.waited)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._thread.join()
        while self.waited and signal.sigtimedwait(self.waited, 0) is not None:
            pass  # a wrapper's late relay: not for the handler restored below
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if self.waited:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)

    def block_again(self) -> None:
        """Block the waited signals again in this thread, after code that may unblock them.

        multiprocessing's resource tracker unblocks SIGINT and SIGTERM in the
        thread that starts it (when a process's first lock or event is made).
        """
        if self.waited:
            signal.pthread_sigmask(signal.SIG_BLOCK, self.waited)

    def _ordinary(self, signum: int, frame: FrameType | None) -> None:
        self._unknown.put(Copy(signum, None))  # SimpleQueue.put is safe in a handler

    def _listen(self) -> None:
        while not self._closing.is_set():
            for copy in self._next_copies():
                new = self._count.add(copy)
                logger.debug(
                    "%s from %s: %s",
                    signal.Signals(copy.signum).name,
                    "an unknown sender" if copy.sender is None else f"pid {copy.sender}",
                    f"action {self._count.actions}" if new else "a copy of a counted action",
                )
                if new:
                    self._act(copy.signum)

    def _next_copies(self) -> list[Copy]:
        copies = []
        if self.waited:
            info = signal.sigtimedwait(self.waited, POLL)
            if info is not None:
                copies.append(Copy(info.si_signo, sender_of(info)))
        else:
            self._closing.wait(POLL)
        while not self._unknown.empty():
            copies.append(self._unknown.get_nowait())
        return copies

    def _act(self, signum: int) -> None:
        try:
            self.on_action(self._count.actions, signum)
        except Exception:
            logger.exception("stopping on %s failed", signal.Signals(signum).name)


def again_hint(signum: int) -> str:
    """How the user asks for the second action, in the words of the first."""
    return "press Ctrl-C again" if signum == signal.SIGINT else "send SIGTERM again"


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
