"""Redis URLs: clear one-line errors that never show a password, and TLS URLs."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from redis.connection import SSLConnection, UnixDomainSocketConnection
from taskkit_core.errors import BackendUnavailable, ConfigurationError, TaskkitError
from taskkit_core.kit import Kit
from taskkit_core.opening import connect
from taskkit_core.testing import RecordingHandler
from taskkit_redis.urls import parse_redis_url

OpenConnection = Callable[..., Any]

CANARY = "Pw-CANARY-zq7kx"
ODD_CANARY = "Pw/CAN#ARY@7f:%"


def pieces(secret: str, size: int = 5) -> list[str]:
    """Every ``size``-character piece of ``secret``: none may show anywhere."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        for piece in pieces(secret):
            assert piece not in text, f"{piece!r} of a password shows in {text!r}"


def everything_about(exc: BaseException) -> str:
    """Message, repr and traceback of an exception and of every one chained to it."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), *traceback.format_exception(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)


def refused(url: str, error: type[TaskkitError], **options: Any) -> TaskkitError:
    with pytest.raises(error) as info:
        connect(url, **options)
    message = str(info.value)
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    return info.value


@pytest.mark.parametrize(
    "url",
    [
        f"redis://user:{ODD_CANARY}@127.0.0.1:6379/0",
        f"redis://user:{CANARY}@127.0.0.1:notaport/0",
        f"redis://user:pa/ss{CANARY}@127.0.0.1/0",
        f"redis://user:{CANARY}?x@127.0.0.1/0",
        f"redis://user:{CANARY}#x@127.0.0.1/0",
        f"rediss://:{CANARY}/x@127.0.0.1:6380/0",
        f"unix://:{CANARY}/x@/tmp/redis.sock",
        f"redis://:{CANARY}@127.0.0.1:99999/0",
    ],
)
def test_malformed_urls_are_refused_without_showing_the_password(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    error = refused(url, ConfigurationError)
    assert "percent-encode" in str(error)
    assert "could not be cast" not in everything_about(error)
    assert_no_secret(everything_about(error) + caplog.text, CANARY, ODD_CANARY)


@pytest.mark.parametrize(
    ("url", "options", "expected"),
    [
        ("redis://127.0.0.1/abc", {}, "database number"),
        ("redis://127.0.0.1/0?frobnicate=1", {}, "'frobnicate'"),
        ("redis://127.0.0.1/0?ssl_ca_certs=/ca.pem", {}, "rediss://"),
        ("redis://127.0.0.1/0?db=x", {}, "'db'"),
        ("redis://127.0.0.1/0?socket_timeout=-1", {}, "positive"),
        ("unix://", {}, "socket path"),
        ("redis://127.0.0.1/0", {"frobnicate": 1}, "frobnicate"),
        ("redis://127.0.0.1/0", {"max_connections": 0}, "max_connections"),
        ("redis://127.0.0.1/0", {"namespace": "no-dashes"}, "namespace"),
        ("redis://127.0.0.1/0", {"namespace": "{tag}"}, "namespace"),
    ],
)
def test_bad_urls_and_options_are_named_before_connecting(
    url: str, options: dict[str, Any], expected: str
) -> None:
    error = refused(url, ConfigurationError, **options)
    assert expected in str(error)


def test_wrong_password_is_reported_without_it(
    private_redis: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = private_redis(password="the-right-one")
    error = refused(f"redis://:{CANARY}@127.0.0.1:{server.port}/0", BackendUnavailable)
    assert "AuthenticationError" in str(error) or "WRONGPASS" in str(error)
    assert_no_secret(everything_about(error) + caplog.text, CANARY)


def test_unreachable_server_is_reported_without_the_password(
    private_redis: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = private_redis()
    server.stop()  # nothing listens on its port now
    error = refused(f"redis://u:{CANARY}@127.0.0.1:{server.port}/0", BackendUnavailable)
    assert f"127.0.0.1:{server.port}" in str(error)
    assert_no_secret(everything_about(error) + caplog.text, CANARY)


def test_a_working_connection_never_shows_its_password(
    private_redis: Callable[..., Any],
    open_connection: OpenConnection,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = private_redis(password=CANARY)
    connection = open_connection(url=server.url)
    kit = Kit(
        connection.backend,
        connection.bridge,
        RecordingHandler(),
        backend_options={"namespace": namespace},
    )
    runtime = kit.start_threads({"g": 1}, polling_interval=0.1)
    try:
        assert kit.initiate_task("g", "echo", 7).get(timeout=10) == 7
    finally:
        runtime.stop(timeout=5)
    shown = [
        repr(kit),
        repr(connection.backend),
        repr(connection.bridge),
        repr(connection.backend.get_lock("job")),
        repr(runtime),
        repr(parse_redis_url(server.url)),
        caplog.text,
    ]
    assert_no_secret("\n".join(shown), CANARY)


def test_tls_urls_select_tls_connections() -> None:
    target = parse_redis_url(
        f"rediss://:{CANARY}@cache.example:6380/2?ssl_cert_reqs=none&ssl_ca_certs=/ca.pem"
    )
    assert target.tls
    kwargs = target.connection_kwargs
    assert kwargs["connection_class"] is SSLConnection
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.example", 6380, 2)
    assert (kwargs["ssl_cert_reqs"], kwargs["ssl_ca_certs"]) == ("none", "/ca.pem")
    assert kwargs["password"] == CANARY
    assert target.address == "cache.example:6380/2"
    assert_no_secret(repr(target), CANARY)
    plain = parse_redis_url("redis://127.0.0.1")
    assert not plain.tls and "connection_class" not in plain.connection_kwargs
    assert plain.connection_kwargs["db"] == 0


def test_unix_socket_urls_take_the_path_and_db() -> None:
    target = parse_redis_url("unix://user:pw@/run/redis/redis.sock?db=3&socket_timeout=2")
    kwargs = target.connection_kwargs
    assert kwargs["connection_class"] is UnixDomainSocketConnection
    assert (kwargs["path"], kwargs["db"], kwargs["socket_timeout"]) == (
        "/run/redis/redis.sock",
        3,
        2,
    )
    assert (kwargs["username"], kwargs["password"]) == ("user", "pw")


def test_options_override_the_url_query() -> None:
    target = parse_redis_url("redis://h/0?socket_timeout=2", {"socket_timeout": 7})
    assert target.connection_kwargs["socket_timeout"] == 7.0
    assert target.connection_kwargs["max_connections"] == 64
