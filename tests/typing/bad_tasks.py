"""Calls a type checker must refuse: each line carries the error mypy reports for it.

With ``warn_unused_ignores`` (mypy strict), a wrong call that type-checks
leaves its ``type: ignore`` unused, which is an error: the check fails.
tests/app/test_typing.py also strips the comments and expects exactly these
errors on exactly these lines.
"""

from __future__ import annotations

from taskkit_core import App

app = App("memory://")


@app.task
def add(a: int, b: int) -> int:
    return a + b


@app.task
async def fetch(url: str, *, attempts: int = 3) -> bytes:
    return url.encode() * attempts


def wrong_calls() -> None:
    add.delay("1", 2)  # type: ignore[arg-type]
    add.delay(1)  # type: ignore[call-arg]
    add.delay(1, 2, 3)  # type: ignore[call-arg]
    add.delay(1, c=2)  # type: ignore[call-arg]
    add.call(1.5, 2)  # type: ignore[arg-type]
    add.options(delay=1).delay(1, "2")  # type: ignore[arg-type]
    add.options(priority="high").delay(1, 2)  # type: ignore[arg-type]
    add.options(headers={"tenant": 7}).delay(1, 2)  # type: ignore[dict-item]
    fetch.delay(b"u")  # type: ignore[arg-type]
    fetch.delay("u", 3)  # type: ignore[call-arg]
    text: str = add.delay(1, 2).get()  # type: ignore[assignment]
    add.delay_many([fetch.call("u")])  # type: ignore[list-item]
    print(text)
