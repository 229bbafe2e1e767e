"""What the benchmarks that run real servers share: a free loopback port, a throw-away
PostgreSQL database, and server processes started and stopped as process groups."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HOST = "127.0.0.1"
PG = "postgres://postgres@127.0.0.1:5432"


def free_port() -> int:
    """A loopback port nobody listens on (never post to someone else's server)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database(url: str, action: str) -> None:
    """`create` (dropping any left-over first) or `drop` the PostgreSQL database of `url`
    (postgres://user@host:port/name), working from the same server's `postgres` database."""
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        name = parts.path.lstrip("/")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')


def scalar(url: str, sql: str):
    """The first column of the first row of `sql` run on the database of `url`."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def start(
    command: list[str],
    *,
    cwd: Path,
    env: dict | None = None,
    log: Path | None = None,
    nice: int = 0,
):
    """A server process in its own process group (so that `stop` ends its children too), its
    output appended to `log` or discarded. `nice` > 0 lowers its CPU priority, as an operator
    would for batch work sharing a host with web processes (docs/operator-guide.md)."""
    if log is not None:
        log.parent.mkdir(exist_ok=True)
    if nice:
        command = ["nice", "-n", str(nice), *command]
    with log.open("a") if log is not None else open(os.devnull, "w") as out:  # noqa: PTH123
        process = subprocess.Popen(  # noqa: S603
            command, cwd=cwd, env=env, start_new_session=True, stdout=out, stderr=out
        )
    if nice:
        _session_nice(process.pid, nice)
    return process


def _session_nice(pid: int, nice: int) -> None:
    """With Linux's autogroup scheduling (on by default) each session shares the CPU with the
    other sessions as one unit, and a process's nice counts only against its own session. A
    process started in its own session, as here, is therefore lowered through its session's
    nice too (its children, RQ's work horses, share the session)."""
    autogroup = Path(f"/proc/{pid}/autogroup")
    if autogroup.exists():
        autogroup.write_text(str(nice))


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process group, SIGKILL it if it has not ended after `timeout` seconds."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_gunicorn(process: subprocess.Popen, port: int, path: str = "/") -> None:
    """Return once our gunicorn answers `path` on `port`; refuse a port someone else answers."""
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("gunicorn stopped")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            server = conn.getresponse().getheader("Server", "")
            conn.close()
        except OSError:
            time.sleep(0.1)
            continue
        if "gunicorn" not in server:
            raise RuntimeError(f"port {port} is answered by {server!r}, not our gunicorn")
        return
    raise RuntimeError("gunicorn did not start")


def prepare_demo(url: str, env: dict[str, str], root: Path) -> None:
    """A fresh database at `url` with the demo site: migrated, static files collected, the demo
    loaded (`manage.py` of the project at `root`, run with `env`)."""
    database(url, "create")
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["collectstatic", "--noinput", "-v", "0"],
        ["load_demo", "--no-progress"],
    ):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command], cwd=root, env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
