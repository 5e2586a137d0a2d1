"""Counting stop actions: copies of one action count once, real repeats always count.

Each case lists the copies a worker receives, as (signal, sender): KERNEL
is a terminal's Ctrl-C, WRAPPER an ancestor in the worker's process group
(``uv run``), KILL and SYSTEMD two processes outside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from taskkit_core.worker.stop_signals import (
    KERNEL,
    ActionCount,
    Copy,
    Stopped,
)

INT, TERM = signal.SIGINT, signal.SIGTERM
WRAPPER, OUTER_WRAPPER, KILL, SYSTEMD = 1001, 1000, 2001, 1

CASES = {
    "one Ctrl-C": ([(INT, KERNEL)], 1),
    "two Ctrl-C": ([(INT, KERNEL), (INT, KERNEL)], 2),
    "one Ctrl-C, also forwarded": ([(INT, KERNEL), (INT, WRAPPER)], 1),
    "one Ctrl-C, forwarded by two wrappers": (
        [(INT, KERNEL), (INT, OUTER_WRAPPER), (INT, WRAPPER)],
        1,
    ),
    "the forwarded copy first": ([(INT, WRAPPER), (INT, KERNEL)], 1),
    "two Ctrl-C, the second forwarded late (uv run)": (
        [(INT, KERNEL), (INT, KERNEL), (INT, WRAPPER)],
        2,
    ),
    "Ctrl-C turned into SIGTERM by the wrapper": ([(INT, KERNEL), (TERM, WRAPPER)], 1),
    "a group-wide SIGTERM, also forwarded": ([(TERM, SYSTEMD), (TERM, WRAPPER)], 1),
    "two kills from outside": ([(TERM, KILL), (TERM, KILL)], 2),
    "two kills from a script that is the parent": ([(TERM, WRAPPER), (TERM, WRAPPER)], 2),
    "systemd, then an admin": ([(TERM, SYSTEMD), (TERM, KILL)], 2),
    "senders not known": ([(TERM, None), (TERM, None)], 2),
}


@pytest.mark.parametrize("copies, actions", CASES.values(), ids=CASES.keys())
def test_copies_of_one_action_count_once(
    copies: list[tuple[int, int | None]], actions: int
) -> None:
    count = ActionCount({WRAPPER, OUTER_WRAPPER})
    new = [count.add(Copy(signum, sender)) for signum, sender in copies]
    assert count.actions == actions
    assert sum(new) == actions  # on_action is called once per action


def test_exit_codes_say_how_the_worker_stopped() -> None:
    assert Stopped().exit_code == 0
    assert Stopped(INT).exit_code == 0  # drained after Ctrl-C
    assert Stopped(INT, forced=True).exit_code == 130
    assert Stopped(TERM, forced=True).exit_code == 143


def test_the_relays_are_the_ancestors_in_the_own_process_group() -> None:
    probe = (
        "from taskkit_core.worker.stop_signals import relaying_ancestors as r; print(sorted(r()))"
    )
    same_group = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    own_group = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        start_new_session=True,
        check=True,
    )
    assert str(os.getpid()) in same_group.stdout.strip("[]\n").split(", ")
    assert own_group.stdout.strip() == "[]"
