"""A wrapper like ``uv run`` for the signal tests: ``python forwarder.py COMMAND...``.

It runs COMMAND as its child, in its own process group (so a group-wide
signal reaches both), passes every SIGINT and SIGTERM it gets on to the
child at once, says so on stderr, and exits with the child's code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from types import FrameType


def main() -> int:
    child = subprocess.Popen(sys.argv[1:])

    def forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)
        sys.stderr.write(f"forwarder: forwarded {signal.Signals(signum).name}\n")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())
