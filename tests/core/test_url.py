"""Backend URLs: parsing and password masking."""

from __future__ import annotations

import pytest
from taskkit_core.errors import ConfigurationError
from taskkit_core.url import mask_url, parse_url, url_password

CANARY = "Pw-CANARY-zq7kx"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:secret@127.0.0.1/db", "postgresql://u:***@127.0.0.1/db"),
        ("redis://:pa@ss@host:6379/0", "redis://:***@host:6379/0"),
        ("mysql://u:p/a:s@h/db", "mysql://u:***@h/db"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis://user@host/0", "redis://user@host/0"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ("u:secret@host", "u:***@host"),
    ],
)
def test_passwords_are_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://user:{CANARY}@127.0.0.1:5432/db",
        "redis://:Pw/CAN#ARY@7f:%@host:notaport/0",
        "mysql+pymysql://u:Pw%2FCAN%23ARY@[::1",
    ],
)
def test_no_part_of_the_password_survives_masking(url: str) -> None:
    password = url_password(url)
    assert password
    masked = mask_url(url)
    assert password not in masked
    raw_password = url.split("://", 1)[1].rsplit("@", 1)[0].split(":", 1)[1]
    assert raw_password not in masked


def test_parsed_url_shows_only_the_masked_form() -> None:
    parsed = parse_url(f"postgresql://u:{CANARY}@h/db")
    assert parsed.scheme == "postgresql"
    assert CANARY not in repr(parsed)
    assert CANARY not in str(parsed)
    assert parsed.raw.endswith("@h/db")


@pytest.mark.parametrize("url", ["", "   ", "not a url", "://x", "1abc://x"])
def test_malformed_urls_get_one_clear_line(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_url(url)
    assert "\n" not in str(info.value)


def test_a_url_must_be_a_string() -> None:
    with pytest.raises(ConfigurationError, match="must be a str, got bytes"):
        parse_url(b"memory://")


def test_scheme_is_case_insensitive_and_query_is_options() -> None:
    parsed = parse_url("MeMoRy://name?pool=3")
    assert parsed.scheme == "memory"
    assert parsed.query() == {"pool": "3"}
