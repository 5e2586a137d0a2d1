"""Which groups were paused or shut down, as far as this dashboard has seen.

Workers keep their pause state and publish it in the roster, which the
overview reads (:mod:`.overview`); control events reach a bridge only from
its creation on. A thread reads the event bridge and remembers the last
control event of each group (or of all groups) since the dashboard
started: the word for groups no worker with a roster card serves, and the
newest word until the next read of the roster. Events the dashboard sends
itself are noted at once, whether or not its bridge hands them back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ..clock import cur_ts
from ..events import ControlEvent, EventBridge

logger = logging.getLogger("taskkit.dashboard")


@dataclass(frozen=True)
class Control:
    """The last control event seen for a group: its name and when it was seen."""

    name: str
    seen: float


class ControlTracker:
    """The last control event per group, read from a bridge on a thread of its own."""

    def __init__(self, bridge: EventBridge) -> None:
        self.started = cur_ts()
        self._bridge = bridge
        self._lock = threading.Lock()
        self._default: Control | None = None  # the last event sent to every group
        self._groups: dict[str, Control] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-events", daemon=True)

    def start(self) -> None:
        """Start reading events (once; later calls do nothing)."""
        with self._lock:
            if not self._thread.is_alive() and not self._stop.is_set():
                self._thread.start()

    def stop(self) -> None:
        """Stop reading. Returns at once; the thread ends after the read in progress."""
        with self._lock:
            self._stop.set()

    def note(self, event: ControlEvent) -> None:
        """Remember ``event`` for the groups it names (all of them when None)."""
        seen = Control(event["name"], cur_ts())
        with self._lock:
            if event["groups"] is None:
                self._default, self._groups = seen, {}
            else:
                self._groups.update(dict.fromkeys(event["groups"], seen))

    def last(self, group: str) -> Control | None:
        """The last control event seen for ``group`` (a resume too); None if none was."""
        with self._lock:
            return self._groups.get(group, self._default)

    def of(self, group: str) -> Control | None:
        """The last pause or shutdown in force for ``group``; None when running or unknown."""
        control = self.last(group)
        return None if control is None or control.name == "resume" else control

    def paused(self, groups: Iterable[str]) -> dict[str, Control]:
        """The groups among ``groups`` that are paused or shut down."""
        found = {group: self.of(group) for group in groups}
        return {group: control for group, control in found.items() if control is not None}

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                events = self._bridge.receive_events(timeout=1.0)
            except Exception as exc:  # the store is unreachable: the next call goes on
                if self._stop.is_set():
                    return  # the connection was closed under a read in progress
                if not failing:  # the type only: a driver's message may hold the URL
                    logger.warning("dashboard: reading control events failed (%s)", type(exc))
                failing = True
                self._stop.wait(1.0)
                continue
            failing = False
            for event in events:
                self.note(event)
