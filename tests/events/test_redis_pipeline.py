"""The event pipeline against a real Redis and real RQ workers (burst mode, in this process):
API posts end up in the database exactly once, batches a dead worker took are stored by the next
one, redelivered batches add nothing, and a poison entry blocks nothing."""

from __future__ import annotations

import json
import threading
import time

import django_rq
import pytest
from django.conf import settings
from rq import SimpleWorker

from personalization.events import ingest
from personalization.events.models import Event
from personalization.events.signals import event_stored
from personalization.models import Visitor
from tests.events.helpers import page_views

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)"),
]


@pytest.fixture
def events_queue():
    queue = django_rq.get_queue("events")
    queue.empty()
    return queue


@pytest.fixture
def stored_signals():
    heard = []

    def listen(sender, event, **kwargs):
        heard.append(event.pk)

    event_stored.connect(listen)
    yield heard
    event_stored.disconnect(listen)


def run_worker(queue) -> None:
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.failed_job_registry.count == 0


def stream_state() -> tuple[int, int]:
    """(entries in the stream, entries taken but not acknowledged)."""
    client = ingest.redis_client()
    stream = ingest.stream_keys()[0]
    ingest._ensure_group(client, stream)
    return client.xlen(stream), client.xpending(stream, ingest.GROUP)["pending"]


def post_events(client, events: list[dict]):
    return client.post("/api/v1/events/", data=json.dumps(events), content_type="application/json")


def test_events_posted_through_the_api_are_stored_exactly_once(client, run_jobs):
    events = [{"type": "page_view", "idempotency_key": f"api-{i}"} for i in range(250)]
    with run_jobs():
        for start in range(0, 250, 50):
            assert post_events(client, events[start : start + 50]).status_code == 202
    assert Event.objects.filter(idempotency_key__startswith="api-").count() == 250
    with run_jobs():  # the client retries two batches it thinks were lost
        assert post_events(client, events[:50]).status_code == 202
        assert post_events(client, events[100:150]).status_code == 202
    assert Event.objects.filter(idempotency_key__startswith="api-").count() == 250
    visitor = Visitor.objects.get(events__idempotency_key="api-0")
    assert visitor.page_view_count == 250
    assert stream_state() == (0, 0)


def test_a_burst_enqueues_one_drain_job_not_one_per_event(events_queue):
    for start in range(0, 100, 10):
        ingest.publish(page_views(100)[start : start + 10])
    assert events_queue.count == 1
    assert stream_state() == (10, 0)
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__startswith="pv-").count() == 100
    assert stream_state() == (0, 0)


def test_a_drain_job_lost_from_the_queue_is_replaced_by_the_next_event(events_queue):
    ingest.publish(page_views(5, prefix="first"))
    events_queue.empty()  # the waiting drain job is gone (e.g. the queue was emptied)
    ingest.publish(page_views(5, prefix="second"))
    assert events_queue.count == 1
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__regex=r"^(first|second)-").count() == 10


def test_a_batch_a_dead_worker_took_is_stored_by_the_next_worker(settings, events_queue):
    settings.EVENTS_CLAIM_IDLE_SECONDS = 0
    ingest.publish(page_views(60, prefix="taken"))
    client, stream = ingest.redis_client(), ingest.stream_keys()[0]
    ingest._ensure_group(client, stream)
    taken = client.xreadgroup(ingest.GROUP, "dead-worker", {stream: ">"}, count=100)
    assert len(taken[0][1]) == 1  # the dead worker holds the entry, nothing was committed
    assert stream_state() == (1, 1)
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__startswith="taken-").count() == 60
    assert stream_state() == (0, 0)
    consumers = client.xinfo_consumers(stream, ingest.GROUP)
    assert b"dead-worker" not in [c["name"] for c in consumers]


def test_a_batch_committed_but_not_acknowledged_adds_nothing_when_redelivered(
    settings, stored_signals
):
    settings.EVENTS_CLAIM_IDLE_SECONDS = 0
    batch = page_views(40, prefix="acked-late")
    ingest.publish(batch)
    client, stream = ingest.redis_client(), ingest.stream_keys()[0]
    ingest._ensure_group(client, stream)
    client.xreadgroup(ingest.GROUP, "died-before-ack", {stream: ">"}, count=100)
    assert ingest.store(batch) == 40  # it committed, then died before XACK
    assert ingest.drain() == 0
    assert Event.objects.filter(idempotency_key__startswith="acked-late-").count() == 40
    assert len(stored_signals) == 40
    assert stream_state() == (0, 0)


def test_a_poison_entry_goes_to_the_dead_letter_stream_and_blocks_nothing(caplog):
    client, (stream, _, dead) = ingest.redis_client(), ingest.stream_keys()
    client.xadd(stream, {"p": b"{not json"})
    ingest.publish(page_views(10, prefix="fine"))
    assert ingest.drain() == 10
    assert Event.objects.filter(idempotency_key__startswith="fine-").count() == 10
    assert client.xlen(dead) == 1
    assert stream_state() == (0, 0)
    assert "dead-letter" in caplog.text


def test_a_long_backlog_is_handed_to_a_fresh_job(settings, events_queue):
    settings.EVENTS_BATCH_ENTRIES = 5
    for start in range(0, 200, 10):
        ingest.publish(page_views(200, prefix="backlog")[start : start + 10])
    events_queue.empty()
    assert ingest.drain(max_seconds=0) == 50  # one batch of 5 entries, then it hands over
    assert events_queue.count == 1
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__startswith="backlog-").count() == 200


def test_under_steady_traffic_a_drain_job_waits_for_the_next_events_instead_of_ending(
    settings,
):
    settings.EVENTS_IDLE_SECONDS = 1.0
    settings.EVENTS_GATHER_SECONDS = 0.05
    ingest.publish(page_views(5, prefix="steady-early"))
    late = threading.Timer(0.3, ingest.publish, [page_views(5, prefix="steady-late")])
    late.start()
    began = time.monotonic()
    stored = ingest.drain()
    late.join()
    assert stored == 10  # the late events came while the job waited, and it took them
    assert time.monotonic() - began >= 1.3  # then it waited a second more before ending
    assert Event.objects.filter(idempotency_key__startswith="steady-").count() == 10


def test_backlog_reports_waiting_and_dead_entries():
    ingest.publish(page_views(3))
    assert ingest.backlog() == {"waiting": 1, "in_progress": 0, "dead_letters": 0}
