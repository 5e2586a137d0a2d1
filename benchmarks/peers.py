"""The same-run comparison with the peers: the peer harness plus our adapter, on private servers.

    python -m benchmarks.peers --dest /tmp/peerbench \
        --peers project-redis,huey,dramatiq [run.py options...]

1. copies the read-only peer harness (``--source``, default
   /work/shared/peers) to ``DEST/peers`` if it is not there yet,
   ``peer_adapter.py`` to ``DEST/peers/adapters/project.py`` and
   ``peer_cost.py`` + ``cpu.py`` to ``DEST/peers/cost/`` (always);
2. builds the harness's virtualenvs as its ``run.sh`` does (``DEST/.venv``
   from requirements.txt, ``DEST/.venv/py312`` for oban) if missing, and
   installs the three workspace packages into ``DEST/.venv`` (pip -e) and
   compiles their bytecode;
3. starts private Redis, PostgreSQL and MariaDB instances on free ports
   and creates the harness's ``bench`` role and databases in them;
4. runs the harness's ``run.py`` through ``cost/runner.py drive`` (the
   same run, plus CPU per task of each peer's W2 drain: see peer_cost.py)
   with ``BENCH_*_PORT`` pointing at the servers (bounded in time), then
   stops the servers by PID.

Why not ``run.sh``: it sets up and uses the shared servers (creates a
role, FLUSHDBs Redis DBs 1-6 and 15 of the shared Redis). Apart from the
servers, the run is the harness's own: same venvs, same driver, same
RESULTS.md and results.json in ``DEST/peers``.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .servers import MariaDBServer, PostgresServer, RedisServer

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PASSWORD = "bench"  # noqa: S105 - the harness's own throwaway password (its common.py)
PG_DATABASES = ("bench", "bench_procrastinate", "bench_pgqueuer", "bench_oban")
RUN_LIMIT = 4 * 3600


def prepare(source: Path, dest: Path) -> Path:
    """The harness copy at ``dest/peers`` with our adapter in it; returns its folder."""
    peers = dest / "peers"
    if not peers.exists():
        shutil.copytree(source, peers)
        for path in [peers, *peers.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    shutil.copyfile(HERE / "peer_adapter.py", peers / "adapters" / "project.py")
    (peers / "cost").mkdir(exist_ok=True)
    shutil.copyfile(HERE / "peer_cost.py", peers / "cost" / "runner.py")
    shutil.copyfile(HERE / "cpu.py", peers / "cost" / "cpu.py")
    return peers


def _pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "-q", *args], check=True, timeout=1800)


def build_venvs(dest: Path, peers: Path) -> Path:
    """The harness's venvs (as run.sh builds them) plus our packages; the main Python."""
    venv = dest / ".venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=300)
        _pip(python, "--upgrade", "pip")
        _pip(python, "-r", str(peers / "requirements.txt"))
    _pip(
        python,
        "-e",
        str(PROJECT / "taskkit_core"),
        "-e",
        f"{PROJECT / 'taskkit_sql'}[postgres,mysql]",
        "-e",
        str(PROJECT / "taskkit_redis"),
    )
    # pip compiles the bytecode of what it installs, but not of editable sources,
    # and with PYTHONDONTWRITEBYTECODE set no import ever writes it: every worker
    # start would compile our modules again (about 0.1 s of CPU per start, measured
    # with benchmarks.startup), which the peers' installed wheels never pay.
    sources = [
        str(PROJECT / name / "src") for name in ("taskkit_core", "taskkit_sql", "taskkit_redis")
    ]
    subprocess.run([str(python), "-m", "compileall", "-q", *sources], check=True, timeout=600)
    oban = venv / "py312" / "bin" / "python"
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")))
    if not oban.exists() and candidates:
        subprocess.run([candidates[0], "-m", "venv", str(venv / "py312")], check=True, timeout=300)
        _pip(oban, "--upgrade", "pip")
        _pip(oban, "-r", str(peers / "requirements-oban.txt"))
    return python


def create_bench_role(pg: PostgresServer, my: MariaDBServer) -> None:
    """The ``bench`` role and databases the harness expects (password ``bench``)."""
    pg.sql("postgres", f"CREATE ROLE bench LOGIN PASSWORD '{PASSWORD}'")
    pg.sql("postgres", "ALTER DATABASE bench OWNER TO bench")
    pg.sql("bench", "ALTER SCHEMA public OWNER TO bench")
    for db in PG_DATABASES[1:]:
        pg.sql("postgres", f"CREATE DATABASE {db} OWNER bench")
    for host in ("127.0.0.1", "localhost"):
        my.sql(f"CREATE USER 'bench'@'{host}' IDENTIFIED BY '{PASSWORD}'")
        my.sql(f"GRANT ALL ON bench.* TO 'bench'@'{host}'")


def server_pids(redis_server: RedisServer, pg: PostgresServer, my: MariaDBServer) -> str:
    """``Redis:PID,PostgreSQL:PID,MariaDB:PID`` of the private servers, for peer_cost.py."""
    named = {"Redis": redis_server, "PostgreSQL": pg, "MariaDB": my}
    return ",".join(f"{name}:{s.process.pid}" for name, s in named.items() if s.process)


def main(argv: list[str] | None = None) -> int:
    """Prepare, start private servers, run the harness's run.py, stop the servers."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--source", type=Path, default=Path("/work/shared/peers"))
    ap.add_argument("--dest", type=Path, default=Path(tempfile.gettempdir()) / "peerbench")
    args, run_args = ap.parse_known_args(argv)
    peers = prepare(args.source, args.dest)
    python = build_venvs(args.dest, peers)
    redis_server, pg, my = RedisServer(), PostgresServer(), MariaDBServer()
    try:
        for server in (redis_server, pg, my):
            server.start()
        create_bench_role(pg, my)
        env = dict(
            os.environ,
            BENCH_REDIS_PORT=str(redis_server.port),
            BENCH_PG_PORT=str(pg.port),
            BENCH_MYSQL_PORT=str(my.port),
            TASKKIT_PROJECT_DIR=str(PROJECT),
            BENCH_COST_SERVER_PIDS=server_pids(redis_server, pg, my),
            BENCH_COST_PG_DSN=pg.dsn("bench"),
        )
        print(
            f"[peers] private servers: redis {redis_server.port}, postgres {pg.port}, "
            f"mariadb {my.port}; running run.py {' '.join(run_args)}",
            flush=True,
        )
        done = subprocess.run(
            [str(python), "cost/runner.py", "drive", *run_args],
            cwd=peers,
            env=env,
            timeout=RUN_LIMIT,
            check=False,
        )
        return done.returncode
    finally:
        for server in (my, pg, redis_server):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
