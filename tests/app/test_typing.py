"""The typing of task functions cannot rot: mypy (strict) over tests/typing/.

ok_*.py must type-check, ``assert_type`` included. bad_*.py must type-check
too, every wrong call silenced by a ``type: ignore[code]`` that strict mode
reports when unused (so a wrong call that becomes accepted fails here);
and, with the comments stripped, mypy must report exactly those codes on
exactly those lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

TYPING = Path(__file__).parent.parent / "typing"
PYPROJECT = Path(__file__).parent.parent.parent / "pyproject.toml"
IGNORE = re.compile(r"  # type: ignore\[([a-z-]+)\]$")
ERROR = re.compile(r"^[^:]+:(\d+): error: .*\[([a-z-]+)\]$")


def mypy(request: pytest.FixtureRequest, *paths: Path) -> tuple[int, str]:
    cache = request.config.cache.mkdir("mypy") if request.config.cache else None
    options = ["--config-file", str(PYPROJECT), "--no-error-summary"]
    options += ["--cache-dir", str(cache)] if cache else []
    out, err, status = api.run([*options, *map(str, paths)])
    return status, out + err


@pytest.mark.parametrize("sample", sorted(TYPING.glob("*_*.py")), ids=lambda p: p.name)
def test_the_samples_type_check(request: pytest.FixtureRequest, sample: Path) -> None:
    status, output = mypy(request, sample)
    assert status == 0, output


@pytest.mark.parametrize("sample", sorted(TYPING.glob("bad_*.py")), ids=lambda p: p.name)
def test_each_wrong_call_is_an_error(
    request: pytest.FixtureRequest, sample: Path, tmp_path: Path
) -> None:
    lines = sample.read_text().splitlines()
    expected = {
        (number, match.group(1))
        for number, line in enumerate(lines, 1)
        if (match := IGNORE.search(line))
    }
    assert expected, f"{sample.name} has no wrong call"
    stripped = tmp_path / sample.name
    stripped.write_text("\n".join(IGNORE.sub("", line) for line in lines) + "\n")
    status, output = mypy(request, stripped)
    reported = {
        (int(match.group(1)), match.group(2))
        for line in output.splitlines()
        if (match := ERROR.match(line))
    }
    assert status == 1
    assert reported == expected, output
