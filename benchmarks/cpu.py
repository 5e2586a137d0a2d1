"""CPU seconds of processes read from ``/proc``: a process group, a process tree.

Standard library only: the peer harness's interpreters import this too
(``peer_cost.py``). Each figure is ``utime + stime + cutime + cstime`` of
every process counted, so a child that exited and was reaped by a counted
parent still counts (in its parent's ``cutime``); a process that exited
unreaped between two reads is lost (rare here: servers and worker
supervisors reap their children).
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _seconds(fields: list[str]) -> float:
    """utime + stime + cutime + cstime of one process, in seconds."""
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def _all() -> dict[int, list[str]]:
    """Every live process's stat fields, by PID."""
    out: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(entry)
            if fields is not None:
                out[int(entry)] = fields
    return out


def group_cpu(pgid: int) -> float:
    """CPU seconds of every process in process group ``pgid`` (children included)."""
    return sum(_seconds(f) for f in _all().values() if int(f[2]) == pgid)


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and all its live descendants (reaped children included)."""
    procs = _all()
    children: dict[int, list[int]] = {}
    for pid, fields in procs.items():
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += _seconds(procs[pid])
            todo += children.get(pid, [])
    return total


def process_cpu(pids: list[int]) -> float:
    """CPU seconds of the given processes (children they reaped included)."""
    total = 0.0
    for pid in pids:
        fields = _stat(str(pid))
        if fields is not None:
            total += _seconds(fields)
    return total
