"""A Redis crash (kill -9) in the middle of event ingestion loses nothing that was accepted, when
Redis runs as the operator guide requires (append-only file, fsync on every write): a real
gunicorn takes event posts, a real `rqworker` drains them into PostgreSQL, Redis is killed
mid-load and started again from its files, and every accepted event is stored exactly once.
Also: `check --deploy` warns about a Redis without that persistence."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.db import connection, connections
from redis import Redis
from rq import Queue

from tests.reliability.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
AOF_ALWAYS = ["--appendonly", "yes", "--appendfsync", "always"]
CLIENTS, PER_POST, VISITORS = 3, 10, 12

needs_postgres = pytest.mark.skipif(
    not (settings.DATABASE_URL or "").startswith("postgres"), reason="needs PostgreSQL"
)


def database_url() -> str:
    """This test run's PostgreSQL database, for the server and worker processes."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def spawn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """A server process in its own process group, its output in `log`."""
    with log.open("a") as out:
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def end(process: subprocess.Popen) -> None:
    """SIGTERM the process group; SIGKILL it when it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def call(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    """One HTTP request to the test's gunicorn."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else b""
        conn.request(method, path, payload, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Posting:
    """Client threads posting page views until stopped; the keys of every accepted event."""

    port: int
    tokens: list[str]
    prefix: str
    accepted: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, number: int) -> None:
        """Post batches of page views, one idempotency key per event, until told to stop."""
        sequence = 0
        while not self.stop.is_set():
            keys = [f"{self.prefix}-{number}-{sequence}-{i}" for i in range(PER_POST)]
            events = [{"type": "page_view", "idempotency_key": key} for key in keys]
            token = self.tokens[(number + sequence) % len(self.tokens)]
            try:
                status, _ = call(
                    self.port, "POST", "/api/v1/events/", events, {"X-Visitor-Token": token}
                )
            except (OSError, http.client.HTTPException):
                status = 0
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status == 202:
                    self.accepted.update(keys)
            sequence += 1
            time.sleep(0.01)

    @contextmanager
    def running(self):
        threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()


def stored_keys(prefix: str) -> list[str]:
    """Idempotency keys of the stored events of this test (committed by other processes)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT idempotency_key FROM events_event WHERE idempotency_key LIKE %s",
            [f"{prefix}-%"],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def committed_elsewhere():
    """Visitors and events the server and worker processes commit: deleted after the test."""
    prefix = f"crash-{uuid.uuid4().hex[:8]}"
    yield prefix
    cleanup = connections.create_connection("default")
    try:
        with cleanup.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT visitor_id FROM events_event WHERE idempotency_key LIKE %s",
                [f"{prefix}-%"],
            )
            visitor_ids = [row[0] for row in cursor.fetchall()]
            cursor.execute("DELETE FROM events_event WHERE visitor_id = ANY(%s)", [visitor_ids])
            cursor.execute("DELETE FROM personalization_visitor WHERE id = ANY(%s)", [visitor_ids])
    finally:
        cleanup.close()


@needs_postgres
@pytest.mark.django_db
def test_events_accepted_before_a_redis_crash_are_stored_exactly_once(
    private_redis_factory, committed_elsewhere, tmp_path
):
    redis = private_redis_factory(extra_args=AOF_ALWAYS)
    assert redis.client().config_get("appendfsync") == {"appendfsync": "always"}
    stream = f"test-events:{uuid.uuid4().hex}"
    env = {
        **os.environ,
        # The deployment's settings (not the tests'): a drain keeps reading while events come,
        # so Redis dies in the middle of one.
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "EVENTS_STREAM": stream,
        "EVENTS_CLAIM_IDLE_SECONDS": "1",
        "EVENTS_BATCH_ENTRIES": "20",
        "API_THROTTLE_IP": "1000000/minute",
        "API_THROTTLE_VISITOR": "1000000/minute",
    }
    port, log = free_port(), tmp_path / "servers.log"
    web = spawn(
        [sys.executable, "-m", "gunicorn", "config.wsgi", f"--bind={HOST}:{port}",
         "--workers=2", "--worker-class=gthread", "--threads=4"],
        env, log,
    )  # fmt: skip
    worker = None
    try:
        _wait_for_server(web, port, log)
        tokens = [
            json.loads(call(port, "POST", "/api/v1/visitors/")[1])["visitor_token"]
            for _ in range(VISITORS)
        ]
        with Posting(port, tokens, committed_elsewhere).running() as posting:
            time.sleep(2)  # a backlog builds up before any worker runs
            worker = spawn([sys.executable, "manage.py", "rqworker", "events"], env, log)
            time.sleep(4)  # the worker drains while posts keep coming
            in_redis = redis.client().xlen(stream)
            redis.kill()
            # Longer than redis-py's own retries (3, backing off): the processes see Redis gone.
            time.sleep(10)  # events posted now are stored by the web processes themselves
            redis.start()  # from its append-only file, on the same port
            time.sleep(3)
        assert in_redis > 0, "Redis held no event when it was killed: nothing was tested"

        accepted = posting.accepted
        deadline = time.monotonic() + 120
        while len(set(stored_keys(committed_elsewhere))) < len(accepted):
            assert worker.poll() is None, "the worker exited: " + log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            _enqueue_drain(redis.client())  # as the periodic events-drain job does
            time.sleep(3)
    finally:
        for process in (worker, web):
            if process is not None:
                end(process)

    stored = stored_keys(committed_elsewhere)
    assert len(stored) == len(set(stored)) == len(accepted), posting.statuses
    assert set(stored) == accepted
    print(f"accepted {len(accepted)}, {in_redis} stream entries when killed, {posting.statuses}")


def _wait_for_server(process: subprocess.Popen, port: int, log: Path) -> None:
    """Return once gunicorn answers; fail with its log if it exits or never does."""
    for _ in range(300):
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            call(port, "GET", "/api/v1/schema/")
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start: " + log.read_text()[-3000:])


def _enqueue_drain(client: Redis) -> None:
    """Put a drain job on the `events` queue of this Redis (what the periodic job does)."""
    Queue("events", connection=client).enqueue("personalization.jobs.drain_events")


def test_check_deploy_warns_about_a_redis_without_its_append_only_file(settings, private_redis):
    settings.REDIS_URL = private_redis.url
    ids = [m.id for m in run_checks(tags=["redis"], include_deployment_checks=True)]
    assert ids == ["personalization.W002"]


def test_check_deploy_accepts_a_redis_with_fsync_on_every_write(settings, private_redis_factory):
    settings.REDIS_URL = private_redis_factory(extra_args=AOF_ALWAYS).url
    assert run_checks(tags=["redis"], include_deployment_checks=True) == []
