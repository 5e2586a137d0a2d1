"""S7: passwords in backend URLs never appear in errors, reprs or logs."""

from __future__ import annotations

import logging
import traceback
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from taskkit_core.testing import RecordingHandler
from taskkit_core.url import mask_url

import taskkit_core
from taskkit_core import Kit, TaskkitError, connect

CANARIES = ["Pw-CANARY-zq7kx", "Pw/CAN#ARY@7f:%"]

HOST_LIST_URLS = [
    "redis+sentinel://taskkit:{password}@127.0.0.1:1,127.0.0.1:2/mymaster/0?sentinel_auth=yes",
    "redis+cluster://taskkit:{password}@127.0.0.1:1,127.0.0.1:2/0",
]
"""URLs naming several hosts (Redis Sentinels, cluster nodes), none of them listening."""


def with_password(url: str, password: str, port: int | None = None) -> str:
    """``url`` with a (percent-encoded) password and, optionally, another port."""
    parts = urlsplit(url)
    user = parts.username or "taskkit"
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}:{quote(password, safe='')}@{host}:{port or parts.port or 1}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def needs_a_server(url: str) -> None:
    if url.startswith(("memory:", "sqlite:")):
        pytest.skip("the URL has no password to leak (no server)")


def leaks(text: str, password: str) -> bool:
    spellings = {password, quote(password, safe=""), quote(password)}
    pieces = {password[i : i + 5] for i in range(len(password) - 4)}
    return any(s in text for s in spellings) or any(p in text for p in pieces)


def everything_about(error: BaseException) -> str:
    chain = "".join(traceback.format_exception(error))
    return f"{error}\n{error!r}\n{chain}"


@pytest.mark.parametrize("password", CANARIES)
def test_s7_an_unreachable_server_error_hides_the_password(
    taskkit_url: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    needs_a_server(taskkit_url)
    caplog.set_level(logging.DEBUG)
    url = with_password(taskkit_url, password, port=1)
    with pytest.raises(TaskkitError) as info:
        connection = connect(url)
        connection.backend.lookup_tasks("x")  # a lazily connecting backend fails here
    assert "\n" not in str(info.value).strip()
    assert not leaks(everything_about(info.value), password)
    assert not leaks(caplog.text, password)


@pytest.mark.parametrize("password", CANARIES)
def test_s7_a_wrong_password_error_hides_the_password(
    taskkit_url: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    needs_a_server(taskkit_url)
    caplog.set_level(logging.DEBUG)
    url = with_password(taskkit_url, password)
    try:
        connection = connect(url)
        connection.backend.lookup_tasks("x")
    except TaskkitError as error:
        assert not leaks(everything_about(error), password)
    else:  # the server accepted it (trust authentication): nothing may show it either
        assert not leaks(repr(connection.backend) + repr(connection.bridge), password)
        connection.close()
    assert not leaks(caplog.text, password)


def test_s7_a_running_kit_never_shows_the_password(
    taskkit_url: str, taskkit_namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    needs_a_server(taskkit_url)
    password = CANARIES[1]
    url = with_password(taskkit_url, password)
    try:
        kit = Kit.from_url(url, RecordingHandler(), namespace=taskkit_namespace)
        kit.backend.lookup_tasks("x")
    except TaskkitError as error:
        pytest.skip(f"this server does not take this password ({error}); checked the error instead")
    caplog.set_level(logging.DEBUG)
    try:
        taskkit_core.migrate(url, namespace=taskkit_namespace)
        result = kit.initiate_task("g", "echo", 1)
        with kit.start_threads({"g": 1}) as runtime:
            assert result.get(timeout=20) == 1
            shown = " ".join(
                repr(x) for x in (kit, kit.backend, kit.bridge, runtime, kit.backend.get_lock("l"))
            )
        assert not leaks(shown, password)
        assert not leaks(caplog.text, password)
    finally:
        kit.backend.destroy_all()
        taskkit_core.opening.drop(url, namespace=taskkit_namespace)
        kit.close()


@pytest.mark.parametrize("password", CANARIES)
@pytest.mark.parametrize("template", HOST_LIST_URLS)
def test_s7_unreachable_sentinels_or_cluster_nodes_hide_the_password(
    template: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = template.format(password=quote(password, safe=""))
    assert not leaks(mask_url(url), password)
    with pytest.raises(TaskkitError) as info:
        connect(url)
    assert "127.0.0.1:1" in str(info.value), "the hosts tried are named"
    assert "\n" not in str(info.value).strip()
    assert not leaks(everything_about(info.value), password)
    assert not leaks(caplog.text, password)
