"""Fixtures of the event tests: each test gets its own Redis stream, and the "Redis is down"
memory of the producer is reset after it; the API's fixtures (generous throttles, staff) for
the events endpoint's tests."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from redis.exceptions import RedisError

from personalization.events import ingest
from tests.api.conftest import _generous_throttles, staff  # noqa: F401 - the API's fixtures


@pytest.fixture(autouse=True)
def event_stream(settings):
    """A stream of this test's own (never another run's), removed afterwards."""
    settings.EVENTS_STREAM = f"test-events:{uuid.uuid4().hex}"
    yield settings.EVENTS_STREAM
    ingest._redis_down_until = 0.0
    if settings.REDIS_URL:
        with contextlib.suppress(RedisError):  # some tests point REDIS_URL at a closed port
            ingest.redis_client().delete(*ingest.stream_keys())
