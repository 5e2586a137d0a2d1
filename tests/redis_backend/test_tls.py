"""rediss:// against a private TLS redis-server with a throwaway self-signed certificate."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from taskkit_core.backend import Outcome
from taskkit_core.errors import BackendUnavailable
from taskkit_core.events import make_event
from taskkit_core.opening import connect
from taskkit_core.testing import make_task, wait_until

OpenConnection = Callable[..., Any]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def tls_server(private_redis: Callable[..., Any], tmp_path: Path) -> tuple[Any, Path]:
    cert, key = self_signed(tmp_path)
    server = private_redis(
        "--tls-cert-file",
        str(cert),
        "--tls-key-file",
        str(key),
        "--tls-ca-cert-file",
        str(cert),
        "--tls-auth-clients",
        "no",
        tls=True,
    )
    return server, cert


def test_tasks_and_events_travel_over_tls(
    tls_server: tuple[Any, Path], open_connection: OpenConnection
) -> None:
    server, cert = tls_server
    url = f"rediss://127.0.0.1:{server.port}/0?ssl_ca_certs={quote(str(cert))}"
    connection = open_connection(url=url)
    backend, bridge = connection.backend, connection.bridge
    task = make_task(data="over tls")
    backend.put_tasks(task)
    (claim,) = backend.claim_tasks("g", "w", 1)
    assert backend.settle(Outcome.succeeded(claim, b"done")) == [True]
    assert backend.get_result(task.id)[1] == b"done"
    sender = open_connection(url=url).bridge
    sender.send_event(make_event("pause", None))
    assert wait_until(lambda: bridge.receive_events(0.2), timeout=10) == [
        {"name": "pause", "groups": None}
    ]


def test_a_tls_server_refuses_an_unverified_certificate_and_plain_redis(
    tls_server: tuple[Any, Path],
) -> None:
    server, _cert = tls_server
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"SSL|certificate|verify"):
        connect(f"rediss://127.0.0.1:{server.port}/0", socket_timeout=2)
    with pytest.raises(BackendUnavailable):
        connect(f"redis://127.0.0.1:{server.port}/0", socket_timeout=1)
    assert time.monotonic() - start < 30
