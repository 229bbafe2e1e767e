"""A PostgreSQL outage longer than a few drains loses no accepted event: drains that cannot reach
the database take no entry from the stream, so the entries' delivery count never reaches the
dead-letter limit, and the first drain after the database is back stores them all. Real Redis (a
private server) and real drains in a process whose database does not answer."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from personalization.events import ingest
from personalization.events.models import Event
from tests.events.helpers import page_views
from tests.reliability.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 30

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (settings.DATABASE_URL or "").startswith("postgres"), reason="needs PostgreSQL"
    ),
]

# Drains, each a second apart (the claim idle time), in a process whose database is unreachable.
DRAINS_WITHOUT_DATABASE = """
import sys, time
sys.path.insert(0, {root!r})
import django
django.setup()
from personalization.events.ingest import drain
for _ in range({runs}):
    try:
        drain(max_seconds=1)
    except Exception as exc:
        print("drain failed:", type(exc).__name__)
    time.sleep(1.2)
"""


@pytest.fixture
def stream_on_private_redis(settings, private_redis):
    """The event pipeline of this test on a private Redis, taking over entries after 1 s."""
    settings.REDIS_URL = private_redis.url
    settings.JOBS_INLINE = False
    settings.EVENTS_STREAM = f"test-events:{uuid.uuid4().hex}"
    settings.EVENTS_CLAIM_IDLE_SECONDS = 1
    yield private_redis
    ingest._redis_down_until = 0.0


def test_drains_during_a_database_outage_leave_events_for_the_first_drain_after_it(
    stream_on_private_redis,
):
    prefix = f"dbdown-{uuid.uuid4().hex[:8]}"
    payloads = page_views(EVENTS, visitors=5, prefix=prefix)
    for start in range(0, EVENTS, 10):
        ingest.publish(payloads[start : start + 10])

    runs = settings.EVENTS_MAX_DELIVERIES + 1
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/unreachable",
        "REDIS_URL": stream_on_private_redis.url,
        "EVENTS_STREAM": settings.EVENTS_STREAM,
        "EVENTS_CLAIM_IDLE_SECONDS": "1",
    }
    script = DRAINS_WITHOUT_DATABASE.format(root=str(ROOT), runs=runs)
    outage = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert outage.returncode == 0, outage.stderr[-3000:]
    assert outage.stdout.count("drain failed: OperationalError") == runs, outage.stdout

    ingest.drain(max_seconds=5)  # the database is back

    assert Event.objects.filter(idempotency_key__startswith=prefix).count() == EVENTS
    assert stream_on_private_redis.client().xlen(ingest.stream_keys()[2]) == 0  # no dead letter
