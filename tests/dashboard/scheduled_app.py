"""An app module for the dashboard's CLI test: a Kit (from TASKKIT_URL) and a SCHEDULE."""

from __future__ import annotations

import os

from taskkit_core.testing import RecordingHandler

from taskkit_core import Kit, RegularSchedule, ScheduleEntry

kit = Kit.from_url(os.environ["TASKKIT_URL"], RecordingHandler())

SCHEDULE = {
    "nightly": [
        ScheduleEntry(
            "cleanup", RegularSchedule(seconds=0, minutes=0, hours=3), "jobs", "echo", b"{}"
        )
    ],
}
