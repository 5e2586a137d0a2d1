"""Gives worker processes the command's log set-up (format, level, password masking).

Worker processes start from a forkserver by default, a fresh interpreter
that inherits no logging handler; without this they would log in Python's
bare default format. Before the command starts worker processes it asks the
forkserver to import this module first (``share_logging_with_workers``), so
every process the forkserver forks logs like the command itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os

from .output import configure_logging

LEVEL_VARIABLE = "_TASKKIT_WORKER_LOG_LEVEL"
"""Set by the command for its forkserver (inherited through the environment)."""


def share_logging_with_workers() -> None:
    """Let worker processes started after this call log as this process does."""
    os.environ[LEVEL_VARIABLE] = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    multiprocessing.set_forkserver_preload([__name__])


def _configure_in_forkserver() -> None:
    level = os.environ.get(LEVEL_VARIABLE)
    if level and not logging.getLogger().handlers:
        configure_logging(level)


_configure_in_forkserver()
