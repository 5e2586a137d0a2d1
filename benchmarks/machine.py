"""What a result was measured on: machine, load, Python, package and server versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .idle import kind_of

DISTRIBUTIONS = [
    "taskkit-core",
    "taskkit-sql",
    "taskkit-redis",
    "redis",
    "SQLAlchemy",
    "psycopg",
    "PyMySQL",
]


def describe_machine() -> dict[str, Any]:
    """Platform, CPUs, memory, load average and Python, for the results file."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_gib": _mem_gib(),
        "loadavg": list(os.getloadavg()),
        "python": sys.version.split()[0],
        "packages": {d: _version(d) for d in DISTRIBUTIONS},
    }


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _mem_gib() -> int:
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return -1
    return round(kib / 1024 / 1024)


def server_version(url: str) -> str:
    """The version the server behind ``url`` reports (or why it could not be asked)."""
    try:
        return _server_version(url)
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


def _server_version(url: str) -> str:
    kind = kind_of(url)
    parts = urlsplit(url)
    if kind == "memory":
        return "in-process"
    if kind == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    if kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        try:
            return f"Redis {client.info('server')['redis_version']}"
        finally:
            client.close()
    if kind == "postgres":
        import psycopg

        dsn = parts._replace(scheme="postgresql").geturl()
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return f"PostgreSQL {row[0] if row else '?'}"
    if kind == "mariadb":
        import pymysql

        my = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            connect_timeout=5,
        )
        try:
            with my.cursor() as cur:
                cur.execute("SELECT VERSION()")
                found = cur.fetchone()
                return f"MariaDB/MySQL {found[0] if found else '?'}"
        finally:
            my.close()
    return "unknown"
