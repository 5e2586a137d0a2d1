"""A password in a URL never shows in errors, reprs or log lines (RELIABILITY S7)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from taskkit_core.errors import TaskkitError
from taskkit_core.kit import Kit
from taskkit_core.opening import connect, drop, migrate
from taskkit_core.testing import RecordingHandler, make_task

from .support import ON_POSTGRESQL, ON_SERVERS, as_sql

CANARIES = ["Pw-CANARY-zq7kx", "Pw/CAN#ARY@7f:%"]


def leaks(text: str, canary: str) -> list[str]:
    """Every 5-character piece of the canary (or its URL-encoded form) found in ``text``."""
    pieces = {canary[i : i + 5] for i in range(len(canary) - 4)} | {quote(canary, safe="")}
    return sorted(piece for piece in pieces if piece in text)


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def everything_said(exc: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    said = [str(e) + repr(e) for e in chain(exc)]
    said += traceback.format_exception(exc)
    said += [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    return "\n".join(said)


def _with_password(url: str, canary: str, user: str | None = None, port: int | None = None) -> str:
    scheme, rest = url.split("://", 1)
    credentials, host_part = rest.rsplit("@", 1)
    name = user or credentials.split(":")[0]
    if port is not None:
        host_part = f"127.0.0.1:{port}/{host_part.split('/', 1)[1]}"
    return f"{scheme}://{name}:{quote(canary, safe='')}@{host_part}"


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@ON_SERVERS
@pytest.mark.parametrize("canary", CANARIES)
@pytest.mark.parametrize("fault", ["wrong password", "server unreachable"])
def test_failures_to_connect_never_show_the_password(
    taskkit_url: str, canary: str, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    if fault == "wrong password":
        # PostgreSQL here trusts local users, so name one that does not exist.
        user = "no_such_user" if taskkit_url.startswith("postgresql") else None
        url = _with_password(taskkit_url, canary, user=user)
    else:
        url = _with_password(taskkit_url, canary, port=1)
    for attempt in (lambda: connect(url), lambda: migrate(url, namespace="tk_canary")):
        with pytest.raises(TaskkitError) as info:
            attempt()
        assert "***" in str(info.value)
        assert leaks(everything_said(info.value, caplog), canary) == []


@ON_POSTGRESQL
@pytest.mark.parametrize("canary", CANARIES)
def test_a_working_connection_never_shows_the_password(
    taskkit_url: str, canary: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = _with_password(taskkit_url, canary)  # trust authentication accepts any password
    migrate(url, namespace="tk_canary_ok")
    try:
        connection = connect(url, namespace="tk_canary_ok")
        kit = Kit(connection.backend, connection.bridge, RecordingHandler())
        backend = as_sql(connection.backend)
        backend.put_tasks(make_task())
        backend.get_lock("job").acquire()
        said = [repr(kit), repr(backend), repr(connection.bridge), repr(connection)]
        said.append(repr(backend.database.engine))
        drop(url, namespace="tk_canary_ok")  # the tables vanish under the open backend
        with pytest.raises(Exception) as info:
            backend.claim_tasks("g", "w1", 1)
        said.append(everything_said(info.value, caplog))
        connection.close()
    finally:
        drop(url, namespace="tk_canary_ok")
    assert caplog.records, "nothing was logged: the check would prove nothing"
    assert leaks("\n".join(said), canary) == []
