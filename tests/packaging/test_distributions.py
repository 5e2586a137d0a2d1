"""The built distributions, as PyPI and a new user get them (see conftest.py)."""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest
from harness.availability import unavailable

from taskkit_core import VERSION

from .builds import EXTRAS, Venv, run

PACKAGES = {"taskkit": "taskkit", "taskkit-core": "taskkit_core", "taskkit-sql": "taskkit_sql"}
PACKAGES["taskkit-redis"] = "taskkit_redis"
SDIST_EXTRAS = {"README.md", "LICENSE", "pyproject.toml", "PKG-INFO", ".gitignore"}

RUN_ONE_TASK = """
import sys
from taskkit_core import Kit, migrate
from taskkit_core.opening import drop


class Handler:
    def handle(self, task):
        return b"ran " + task.data

    def get_retry_interval(self, task, exception):
        return None

    def encode_data(self, group, task_name, data):
        return data

    def encode_result(self, task, result):
        return result

    def decode_result(self, task, encoded):
        return encoded.decode()


url, namespace = sys.argv[1], sys.argv[2]
migrate(url, namespace=namespace)
kit = Kit.from_url(url, Handler(), namespace=namespace)
result = kit.initiate_task("packaging", "echo", b"one task")
with kit.start_threads({"packaging": 1}):
    print(result.get(timeout=30))
kit.backend.destroy_all()
kit.close()
drop(url, namespace=namespace)
"""


def names(path: Path) -> set[str]:
    if path.suffix == ".whl":
        return set(zipfile.ZipFile(path).namelist())
    with tarfile.open(path) as archive:
        return {name.partition("/")[2] for name in archive.getnames() if "/" in name}


def metadata(dist: Path, name: str) -> Message:
    wheel = dist / f"{name.replace('-', '_')}-{VERSION}-py3-none-any.whl"
    text = zipfile.ZipFile(wheel).read(f"{name.replace('-', '_')}-{VERSION}.dist-info/METADATA")
    return HeaderParser().parsestr(text.decode())


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_each_distribution_holds_only_what_builds_and_documents_it(dist: Path, name: str) -> None:
    stem, package = f"{name.replace('-', '_')}-{VERSION}", PACKAGES[name]
    wheel = names(dist / f"{stem}-py3-none-any.whl")
    assert f"{stem}.dist-info/licenses/LICENSE" in wheel
    assert {n.partition("/")[0] for n in wheel} == {package, f"{stem}.dist-info"}
    assert f"{package}/py.typed" in wheel
    sdist = names(dist / f"{stem}.tar.gz")
    assert {n for n in sdist if not n.startswith(f"src/{package}/")} == SDIST_EXTRAS
    assert not any("__pycache__" in n for n in wheel | sdist)


def test_twine_accepts_every_file(dist: Path) -> None:
    files = sorted(str(p) for p in dist.iterdir() if p.suffix in (".whl", ".gz"))
    assert len(files) == 8
    run(sys.executable, "-m", "twine", "check", "--strict", *files)


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_the_metadata_is_complete_and_the_readme_stands_alone(dist: Path, name: str) -> None:
    meta = metadata(dist, name)
    assert meta["License-Expression"] == "MIT"
    assert "Typing :: Typed" in meta.get_all("Classifier", [])
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL", []))
    assert urls["Homepage"] == "https://github.com/taskkit/taskkit"
    assert meta["Author"] == "the taskkit authors"
    readme = meta.get_payload()
    assert isinstance(readme, str) and readme.startswith("# ")
    relative = re.findall(r"\]\((?!https://|#)[^)]*\)", readme)
    assert relative == [], "links PyPI cannot follow"


def test_members_are_pinned_to_one_minor_series(dist: Path) -> None:
    minor = ".".join(VERSION.split(".")[:2])
    upper = f"0.{int(minor.split('.')[1]) + 1}"
    for name in PACKAGES:
        for requirement in metadata(dist, name).get_all("Requires-Dist", []):
            if requirement.startswith("taskkit"):
                assert f"<{upper},>={minor}" in requirement, (name, requirement)
    assert "typing-extensions" not in str(metadata(dist, "taskkit-core").get_all("Requires-Dist"))


URLS = {"postgres": "TASKKIT_TEST_POSTGRES_URL", "mysql": "TASKKIT_TEST_MYSQL_URL"}
URLS["redis"] = "TASKKIT_TEST_REDIS_URL"
DRIVERS = {"sqlite": set(), "postgres": {"psycopg-binary"}, "mysql": {"pymysql"}}
DRIVERS["redis"] = {"redis", "hiredis"}


def server_url(extra: str, tmp_path: Path) -> str:
    if extra == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.db'}"
    url = os.environ.get(URLS[extra])
    if not url:
        unavailable(f"{URLS[extra]} is not set; set it to run the {extra} packaging test")
    return url


@pytest.mark.parametrize("extra", EXTRAS)
def test_each_extra_runs_a_task_from_the_built_files(
    venvs: dict[str, Venv], extra: str, tmp_path: Path
) -> None:
    venv = venvs[extra]
    installed = venv.installed()
    assert DRIVERS[extra] <= installed
    others = set().union(*(d for e, d in DRIVERS.items() if e != extra)) - DRIVERS[extra]
    assert not others & installed, "an extra pulls only its own driver"
    assert "rich" not in installed  # the CLI's tables are the [cli] extra's
    url = server_url(extra, tmp_path)
    script = tmp_path / "one_task.py"
    script.write_text(RUN_ONE_TASK)
    namespace = f"pkg_{secrets.token_hex(4)}"
    done = run(venv.python, script, url, namespace, cwd=tmp_path)
    assert done.stdout == "ran one task\n"


def test_backends_in_a_postgres_only_venv_lists_exactly_the_usable_schemes(
    venvs: dict[str, Venv], tmp_path: Path
) -> None:
    taskkit = venvs["postgres"].root / "bin" / "taskkit"
    listed = json.loads(run(taskkit, "backends", "--json", cwd=tmp_path).stdout)
    usable = {b["scheme"] for b in listed["backends"]}
    assert usable == {"memory", "sqlite", "sqlite+pysqlite", "postgres", "postgresql"} | {
        "postgresql+psycopg"
    }
    install = {m["scheme"]: m["install"] for m in listed["missing"]}
    assert install["mysql"] == install["mariadb"] == 'pip install "taskkit[mysql]"'
    assert install["mysql+mysqldb"] == 'pip install "mysqlclient"'
    assert install["redis"] == install["unix"] == 'pip install "taskkit[redis]"'
    table = run(taskkit, "backends", cwd=tmp_path).stdout  # plain text: rich is not installed
    assert 'pip install "taskkit[redis]"' in table and "mysql://" in table
