"""One bad record never costs another's: entries that slipped past the API (written straight
into the stream) or that fail for any reason while stored are isolated by a real RQ worker, down
to the single event; everything else is stored and only the bad event is dead-lettered. Runs on
PostgreSQL (the COPY path) and SQLite alike."""

from __future__ import annotations

import json
import uuid

import django_rq
import pytest
from django.conf import settings
from rq import SimpleWorker

from personalization.events import ingest
from personalization.events.models import Event
from personalization.events.services import event_payload
from personalization.events.signals import event_stored
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


def run_worker(queue) -> None:
    """A real RQ worker drains the stream; no job of it may fail."""
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.failed_job_registry.count == 0, "the drain job failed"


def dead_letters() -> list[dict]:
    client = ingest.redis_client()
    return [
        {key.decode(): value.decode() for key, value in fields.items()}
        for _, fields in client.xrange(ingest.stream_keys()[2])
    ]


def inject(body: str) -> None:
    """An entry written straight into the stream, as no API check would let through, and a
    drain job to take it."""
    ingest.redis_client().xadd(ingest.stream_keys()[0], {"p": body})
    ingest.drain_enqueue()


def stream_state() -> tuple[int, int]:
    client = ingest.redis_client()
    stream = ingest.stream_keys()[0]
    ingest._ensure_group(client, stream)
    return client.xlen(stream), client.xpending(stream, ingest.GROUP)["pending"]


def poison(key: str, visitor_uuid: uuid.UUID) -> str:
    return json.dumps(
        {"type": "page_view", "visitor": str(visitor_uuid), "idempotency_key": key}
    ).replace("}", ', "properties": {"weight": 1e400}}')


@pytest.mark.parametrize("literal", ["1e400", "-1e400"])
def test_an_entry_with_a_number_no_float_can_hold_costs_no_other_entry(events_queue, literal):
    for start in range(0, 30, 10):
        ingest.publish(page_views(30, prefix="unrelated")[start : start + 10])
    inject(f"[{poison('poison', uuid.uuid4()).replace('1e400', literal)}]")
    ingest.publish(page_views(5, prefix="after"))
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__startswith="unrelated-").count() == 30
    assert Event.objects.filter(idempotency_key__startswith="after-").count() == 5
    assert not Event.objects.filter(idempotency_key="poison").exists()
    [dead] = dead_letters()
    assert "poison" in dead["p"] and "finite" in dead["error"]
    assert stream_state() == (0, 0)


def test_a_bad_event_costs_none_of_the_good_events_of_its_own_entry(events_queue):
    visitor_uuid = uuid.uuid4()
    good = [json.dumps(p, default=str) for p in page_views(6, visitors=1, prefix="same-request")]
    cart = {"type": "add_to_cart", "visitor": str(visitor_uuid), "idempotency_key": "two"}
    cart["properties"] = {"sku": "litter-7l", "quantity": "two"}
    nul = {"type": "goal", "name": "a\x00b", "visitor": str(visitor_uuid), "idempotency_key": "nul"}
    bad = [poison("poison", visitor_uuid), json.dumps(cart), json.dumps(nul)]
    inject("[" + ", ".join([*good[:3], *bad, *good[3:]]) + "]")
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__startswith="same-request-").count() == 6
    assert not Event.objects.filter(idempotency_key__in=["poison", "two", "nul"]).exists()
    dead = sorted(json.loads(d["p"])[0]["idempotency_key"] for d in dead_letters())
    assert dead == ["nul", "poison", "two"]
    assert stream_state() == (0, 0)


class ReceiverBug(Exception):
    """Not a database error: what a bug in any code the batch runs raises."""


@pytest.fixture
def buggy_receiver():
    """A receiver of `event_stored` that fails on one goal, as a bug in another app would."""

    def receive(sender, event, **kwargs):
        if event.name == "explodes":
            raise ReceiverBug("a receiver failed")

    event_stored.connect(receive)
    yield
    event_stored.disconnect(receive)


def goal(name: str, key: str) -> dict:
    return event_payload(visitor_uuid=uuid.uuid4(), type="goal", name=name, idempotency_key=key)


def test_an_event_failing_with_any_exception_costs_no_other_event(events_queue, buggy_receiver):
    ingest.publish(page_views(10, prefix="before"))
    ingest.publish([goal("quiz", "quiz-1"), goal("explodes", "boom"), goal("quiz", "quiz-2")])
    ingest.publish(page_views(10, prefix="later"))
    run_worker(events_queue)
    assert Event.objects.filter(idempotency_key__regex=r"^(before|later)-").count() == 20
    assert set(Event.objects.filter(name="quiz").values_list("idempotency_key", flat=True)) == {
        "quiz-1",
        "quiz-2",
    }
    assert not Event.objects.filter(idempotency_key="boom").exists()
    [dead] = dead_letters()
    assert "ReceiverBug" in dead["error"] and "boom" in dead["p"]
    assert stream_state() == (0, 0)


def test_a_dead_lettered_event_can_be_stored_once_its_cause_is_fixed(events_queue):
    def receive(sender, event, **kwargs):
        raise ReceiverBug("a receiver failed")

    event_stored.connect(receive)
    try:
        ingest.publish([goal("quiz", "replayed")])
        run_worker(events_queue)
    finally:
        event_stored.disconnect(receive)
    [dead] = dead_letters()
    assert ingest.store(json.loads(dead["p"])) == 1  # the dead letter is a list of payloads
    assert Event.objects.filter(idempotency_key="replayed").count() == 1
