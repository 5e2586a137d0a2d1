"""Configuration from Django settings, the commands, and each bad input as one clear line."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from django.test import override_settings
from harness.django_project import manage, project_env
from taskkit_core.errors import ConfigurationError
from taskkit_sql.django.config import url_of

from taskkit_core import StorageNotReady, connect, migrate

pytestmark = pytest.mark.usefixtures("django_project")


def test_the_url_is_built_from_the_databases_entry() -> None:
    entry = {"NAME": "shop", "USER": "app", "PASSWORD": "p@ss", "HOST": "db", "PORT": "5433"}
    pg = url_of("default", "postgresql", {**entry, "OPTIONS": {"sslmode": "require", "pool": True}})
    assert pg == "postgresql+psycopg://app:p%40ss@db:5433/shop?sslmode=require"
    assert url_of("default", "mysql", {**entry, "HOST": "/run/mysqld.sock"}) == (
        "mysql+pymysql://app:p%40ss@/shop?unix_socket=%2Frun%2Fmysqld.sock"
    )
    assert url_of("default", "sqlite", {"NAME": "/data/app.db"}) == "sqlite:////data/app.db"


def test_one_alias_serves_the_backend_and_django(django_project: dict[str, Any]) -> None:
    connection = connect("django://")
    try:
        assert connection.backend.url == "django://"
        assert "project.db" in repr(connection.backend)
    finally:
        connection.backend.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("django://nowhere", "'nowhere' is not in settings.DATABASES (known: default"),
        ("django://default/x", "expected django:// or django://<database alias>"),
    ],
)
def test_unknown_aliases_and_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        connect(url)


def test_an_unsupported_engine_names_the_supported_ones() -> None:
    oracle = {"ENGINE": "django.db.backends.oracle", "NAME": "xe"}
    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}, "ora": oracle}
    with override_settings(DATABASES=databases), pytest.raises(ConfigurationError) as caught:
        from taskkit_sql.django.config import engine_family

        engine_family("ora", oracle["ENGINE"])
    message = str(caught.value)
    assert "'django.db.backends.oracle' is not supported" in message
    assert "django.db.backends.postgresql" in message and "\n" not in message


def test_a_bad_taskkit_setting_is_named() -> None:
    with override_settings(TASKKIT={"DATABSE": "x"}), pytest.raises(ConfigurationError) as caught:
        connect("django://")
    assert "unknown key(s) DATABSE" in str(caught.value)


def test_missing_tables_say_to_run_migrate(django_project: dict[str, Any]) -> None:
    with pytest.raises(StorageNotReady) as caught:
        connect("django://default", namespace="not_migrated")
    message = str(caught.value)
    assert "python manage.py migrate" in message and "'default'" in message
    assert "\n" not in message


def test_migrate_made_taskkit_tables_and_taskkit_migrate_knows_it() -> None:
    assert "is up to date" in (migrate("django://") or "")
    done = subprocess.run(
        manage("taskkit_migrate"),
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "database 'default'" in done.stdout and "up to date" in done.stdout


def test_taskkit_status_shows_the_groups_of_the_project() -> None:
    from shop.tasks import add

    add.using(queue_name="reports").enqueue(1, 2)
    done = subprocess.run(
        manage("taskkit_status", "--json"),
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"reports"' in done.stdout


def test_a_move_without_taskkit_tables_moves_nothing_and_says_so() -> None:
    done = subprocess.run(
        manage("taskkit_move_v02", "--namespace", "not_migrated"),
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "manage.py migrate" in line or "taskkit 0.2 tables" in line
