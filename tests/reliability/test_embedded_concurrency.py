"""The embedded default (SQLite, no Redis) under concurrent requests: a real gunicorn with two
worker processes serves site pages, API pages and event posts from four clients at once —
no error, and after a clean shutdown every page view and every accepted event is stored."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CLIENTS = 4
ROUNDS = 40  # per client: a site page, an API page and a post of two events each round
EVENTS_PER_POST = 2


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def embedded_env(tmp_path: Path) -> dict[str, str]:
    """What `make run` has without Redis, with its SQLite file and media in `tmp_path`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "JOBS_INLINE_MODE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        API_THROTTLE_IP="100000/minute",  # four clients on one address; throttles are not tested
        API_THROTTLE_VISITOR="100000/minute",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


def gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """gunicorn with two sync worker processes, in its own process group; waits until it serves."""
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", f"--bind={HOST}:{port}"]
    command += ["--workers=2", "--graceful-timeout=60"]
    with log.open("a") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/api/v1/schema/")
            assert "gunicorn" in conn.getresponse().getheader("Server", "")
            conn.close()
            return process
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("gunicorn did not start")


def shut_down(process: subprocess.Popen) -> int:
    """SIGTERM, as an operator or `make run`'s Ctrl-C stops it; the exit code."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


class Client:
    """One visitor browsing the site and, as a frontend, reading the API and posting events."""

    def __init__(self, port: int, number: int, statuses: Counter, lock: threading.Lock) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.number, self.statuses, self.lock = number, statuses, lock
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, body: object = None, **headers: str) -> bytes:
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = self.conn.getresponse()
        content = response.read()
        with self.lock:
            self.statuses[(method, path.split("?")[0], response.status)] += 1
        set_cookie = response.getheader("Set-Cookie")
        if set_cookie and not self.cookie:
            self.cookie = "; ".join(
                part.split(";")[0] for part in set_cookie.split(", ") if "=" in part.split(";")[0]
            )
        return content

    def browse(self) -> None:
        token = json.loads(self.request("POST", "/api/v1/visitors/"))
        self.token = token["visitor_token"]
        for round_ in range(ROUNDS):
            self.request("GET", "/", **({"Cookie": self.cookie} if self.cookie else {}))
            self.request("GET", "/api/v1/pages/find/?path=/", **{"X-Visitor-Token": self.token})
            events = [
                {
                    "type": "goal",
                    "name": f"embedded-{self.number}",
                    "idempotency_key": f"embedded-{self.number}-{round_}-{i}",
                }
                for i in range(EVENTS_PER_POST)
            ]
            self.request("POST", "/api/v1/events/", events, **{"X-Visitor-Token": self.token})


def counts(database: Path) -> tuple[int, int]:
    """(page views, events posted by the clients) stored in the SQLite file."""
    with sqlite3.connect(database) as conn:
        views = conn.execute(
            "SELECT count(*) FROM events_event WHERE type = 'page_view'"
        ).fetchone()[0]
        goals = conn.execute(
            "SELECT count(DISTINCT idempotency_key) FROM events_event "
            "WHERE type = 'goal' AND name LIKE 'embedded-%'"
        ).fetchone()[0]
    return views, goals


@pytest.mark.skipif(find_spec("gunicorn") is None, reason="gunicorn is not installed")
def test_concurrent_pages_api_and_events_on_sqlite_answer_and_store_everything(tmp_path):
    env = embedded_env(tmp_path)
    manage(env, "migrate", "--noinput", "--verbosity=0")
    manage(env, "load_demo", "--no-progress", "--verbosity=0")
    database = tmp_path / "db.sqlite3"
    views_before, _ = counts(database)
    port, log = free_port(), tmp_path / "gunicorn.log"
    server = gunicorn(env, port, log)
    statuses: Counter = Counter()
    lock = threading.Lock()
    try:
        clients = [Client(port, n, statuses, lock) for n in range(CLIENTS)]
        threads = [threading.Thread(target=c.browse) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        exit_code = shut_down(server)

    failures = {key: n for key, n in statuses.items() if key[2] >= 400}
    assert not failures, (failures, log.read_text()[-3000:])
    assert statuses[("GET", "/", 200)] == CLIENTS * ROUNDS
    assert statuses[("GET", "/api/v1/pages/find/", 200)] == CLIENTS * ROUNDS
    assert statuses[("POST", "/api/v1/events/", 202)] == CLIENTS * ROUNDS
    assert exit_code == 0, log.read_text()[-3000:]
    views, goals = counts(database)
    assert views - views_before == CLIENTS * ROUNDS
    assert goals == CLIENTS * ROUNDS * EVENTS_PER_POST
    assert "database is locked" not in log.read_text()
