"""redis+sentinel:// and redis+cluster:// URLs: parsed, or refused in one line, password unseen."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from taskkit_core.errors import ConfigurationError
from taskkit_core.opening import connect
from taskkit_core.url import mask_url
from taskkit_redis.hosts import parse_target

from .test_urls import CANARY, ODD_CANARY, assert_no_secret, everything_about

ODD = quote(ODD_CANARY, safe="")


def test_a_sentinel_url_names_the_sentinels_the_service_and_the_database() -> None:
    target = parse_target(
        f"redis+sentinel://app:{ODD}@s1.example,s2.example:26380,[::1]:5000/my%20master/3"
        "?socket_timeout=2&client_name=worker"
    )
    assert target.nodes == (("s1.example", 26379), ("s2.example", 26380), ("::1", 5000))
    assert target.service == "my master"
    kwargs = target.connection_kwargs
    assert (kwargs["db"], kwargs["username"], kwargs["password"]) == (3, "app", ODD_CANARY)
    assert (kwargs["socket_timeout"], kwargs["client_name"]) == (2.0, "worker")
    assert "host" not in kwargs and "port" not in kwargs, "the Sentinels name the primary"
    assert target.sentinel_kwargs == {"socket_timeout": 2.0, "socket_connect_timeout": 5.0}
    assert target.address == (
        "service 'my master' of the Sentinels s1.example:26379,s2.example:26380,::1:5000, db 3"
    )
    assert_no_secret(repr(target) + target.address, ODD_CANARY)


def test_sentinel_auth_sends_the_url_credentials_to_the_sentinels_too() -> None:
    target = parse_target(f"redis+sentinel://app:{CANARY}@s1/mymaster?sentinel_auth=yes")
    assert target.sentinel_kwargs["password"] == CANARY
    assert target.sentinel_kwargs["username"] == "app"
    assert target.connection_kwargs["db"] == 0
    assert_no_secret(repr(target), CANARY)


def test_a_password_may_hold_the_separators_of_a_host_list() -> None:
    target = parse_target(f"redis+sentinel://:a,b:c@d{CANARY}@s1:26379,s2/mymaster")
    assert target.nodes == (("s1", 26379), ("s2", 26379))
    assert target.connection_kwargs["password"] == f"a,b:c@d{CANARY}"


def test_a_cluster_url_names_its_startup_nodes_and_no_database() -> None:
    target = parse_target(f"redis+cluster://:{CANARY}@n1,n2:7001/0?max_connections=8")
    assert target.nodes == (("n1", 6379), ("n2", 7001))
    kwargs = target.connection_kwargs
    assert "db" not in kwargs and "host" not in kwargs
    assert (kwargs["password"], kwargs["max_connections"]) == (CANARY, 8)
    assert target.address == "cluster n1:6379,n2:7001"
    assert parse_target("redis+cluster://n1").nodes == (("n1", 6379),)


@pytest.mark.parametrize(
    "url",
    [
        f"redis+sentinel://:{CANARY}@s1:26379,s2:26379",
        f"redis+sentinel://:{ODD}@s1,s2/mymaster/0?sentinel_auth=yes",
        f"redis+cluster://user:{ODD}@n1:7000,n2:7001/0",
    ],
)
def test_the_password_of_a_host_list_url_is_masked(url: str) -> None:
    masked = mask_url(url)
    assert ":***@" in masked
    assert_no_secret(masked, CANARY, ODD_CANARY)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"redis+sentinel://:{CANARY}@s1,s2", "names the service"),
        (f"redis+sentinel://:{CANARY}@s1/mymaster/zero", "is a number"),
        (f"redis+sentinel://:{CANARY}@s1/a/1/2", "names the service"),
        (f"redis+sentinel://:{CANARY}@s1,,s2/mymaster", "host 2 of the redis+sentinel:// URL"),
        (f"redis+sentinel://:{CANARY}@s1:0/mymaster", "port of host 1"),
        (f"redis+sentinel://:{CANARY}@[::1/mymaster", "percent-encode"),
        (f"redis+sentinel://:{CANARY}@s1/mymaster?sentinel_auth=maybe", "yes or no"),
        (f"redis+sentinel://:{CANARY}@s1/mymaster?frobnicate=1", "'frobnicate'"),
        (f"redis+sentinel://:{CANARY}@s1/mymaster?ssl_ca_certs=/ca", "no TLS form"),
        (f"redis+sentinel://:pa/ss{CANARY}@s1,s2/mymaster", "unescaped"),
        (f"redis+sentinel://:{CANARY}#x@s1,s2/mymaster", "unescaped"),
        (f"redis+cluster://:{CANARY}:x@n1:99999/0", "port of host 1"),
        (f"redis+cluster://:{CANARY}?x@n1,n2/0", "unescaped"),
        (f"redis+cluster://:{CANARY}@n1/0?socket_timeout=0", "positive"),
    ],
)
def test_malformed_host_list_urls_are_refused_in_one_line_without_the_password(
    url: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as info:
        connect(url)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message.strip()
    assert_no_secret(everything_about(info.value) + caplog.text, CANARY)
