"""The README's quickstart runs as written and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def quickstart() -> str:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README.md has no python block under ## Quickstart"
    return match.group(1)


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    code = quickstart()
    assert len(code.strip().splitlines()) <= 40
    expected = re.findall(r"print\(.*\)\s+# (.+)", code)
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == expected
