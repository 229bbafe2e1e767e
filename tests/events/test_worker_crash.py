"""A worker killed (kill -9) in the middle of a batch: the next worker stores that batch, and
in the end every event is in PostgreSQL exactly once. Real `manage.py rqworker` processes, real
Redis and PostgreSQL (the workers write to this test run's database)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.models import Sum
from rq.exceptions import NoSuchJobError
from rq.job import Job

from personalization.events import ingest
from personalization.events.models import Event
from personalization.models import Visitor
from tests.events.helpers import page_views

ROOT = Path(__file__).resolve().parents[2]
EVENTS, PER_CALL = 300, 10

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)"),
    pytest.mark.skipif(
        not (settings.DATABASE_URL or "").startswith("postgres"), reason="needs PostgreSQL"
    ),
]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}{password}@{host}/{db['NAME']}"


@pytest.fixture
def worker_env(event_stream):
    """The environment of the worker processes: this run's database, Redis and stream."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EVENTS_STREAM": event_stream,
        "EVENTS_BATCH_ENTRIES": "10",
        "EVENTS_CLAIM_IDLE_SECONDS": "1",
    }


@pytest.fixture
def committed_elsewhere():
    """Rows the worker processes commit are outside this test's transaction: delete them after."""
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


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        assert process.poll() is None, "the worker stopped before the second batch"
        time.sleep(0.1)
    raise AssertionError("the worker never reached its second batch")


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    tmp_path, worker_env, committed_elsewhere
):
    prefix = committed_elsewhere
    django_rq.get_queue("events").empty()
    batch = page_views(EVENTS, visitors=20, prefix=prefix)
    for start in range(0, EVENTS, PER_CALL):
        ingest.publish(batch[start : start + PER_CALL])

    client, (stream, flag, _) = ingest.redis_client(), ingest.stream_keys()
    killed_job = client.get(flag).decode()
    marker = tmp_path / "second-batch"
    crashing = subprocess.Popen(  # noqa: S603
        [sys.executable, str(ROOT / "tests/events/crashing_worker.py"), str(marker)],
        cwd=ROOT,
        env=worker_env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first, second, horse = wait_for(marker, crashing).split()
        assert (first, second) == ("100", "100")
        os.kill(int(horse), signal.SIGKILL)  # the work horse, in the middle of its batch
        os.killpg(crashing.pid, signal.SIGKILL)  # and the worker that forked it
    finally:
        crashing.wait(timeout=30)

    stored = Event.objects.filter(idempotency_key__startswith=f"{prefix}-")
    assert stored.count() == 100  # the first batch committed; the second died uncommitted
    assert client.xpending(stream, ingest.GROUP)["pending"] == 10  # the dead worker's entries

    ingest.drain_enqueue()  # what the periodic events-drain job does
    time.sleep(1.2)  # the dead worker's entries must be idle for EVENTS_CLAIM_IDLE_SECONDS
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "events", "--burst"],
        cwd=ROOT,
        env=worker_env,
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    assert stored.count() == EVENTS
    assert stored.values("idempotency_key").distinct().count() == EVENTS
    visitors = Visitor.objects.filter(events__idempotency_key__startswith=f"{prefix}-").distinct()
    assert visitors.aggregate(views=Sum("page_view_count"))["views"] == EVENTS
    assert client.xlen(stream) == 0
    assert client.xpending(stream, ingest.GROUP)["pending"] == 0
    forget_job(killed_job)


def forget_job(job_id: str) -> None:
    """The killed worker's job is recorded as abandoned (failed); that failure was the point."""
    queue = django_rq.get_queue("events")
    redis = queue.connection
    for registry in (queue.started_job_registry, queue.failed_job_registry):
        for member in redis.zrange(registry.key, 0, -1):
            if member.decode().startswith(job_id):
                redis.zrem(registry.key, member)
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(job_id, connection=redis).delete()
