"""Storing events: exactly once per idempotency key, rollups and `event_stored` once per new
event, bad input left out, and nothing lost when Redis is away. No Redis server needed."""

from __future__ import annotations

import datetime
import logging
import uuid

import pytest
from django.utils import timezone

from personalization.events.models import Event, EventType
from personalization.events.services import (
    event_payload,
    events_ingest,
    events_purge,
    events_track,
)
from personalization.events.signals import event_stored
from personalization.models import Consent, Visitor
from tests.api.helpers import api_as
from tests.events.helpers import page_views
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_signals():
    """Every `event_stored` sent during the test, as (event type, visitor id)."""
    heard = []

    def listen(sender, event, visitor, **kwargs):
        heard.append((event.pk, visitor.pk))

    event_stored.connect(listen)
    yield heard
    event_stored.disconnect(listen)


def test_a_batch_is_stored_once_however_often_it_is_delivered(stored_signals):
    batch = page_views(50, visitors=5)
    assert events_ingest(payloads=batch) == 50
    assert events_ingest(payloads=batch) == 0  # redelivered: nothing new
    assert events_ingest(payloads=batch[:10] + page_views(3, prefix="more")) == 3
    assert Event.objects.filter(idempotency_key__startswith="pv-").count() == 50
    assert len(stored_signals) == 53
    assert len({event_id for event_id, _ in stored_signals}) == 53


def test_duplicates_inside_one_batch_are_stored_once():
    visitor = uuid.uuid4()
    twice = event_payload(visitor_uuid=visitor, type="goal", name="quiz", idempotency_key="k1")
    assert events_ingest(payloads=[twice, dict(twice)]) == 1
    assert Event.objects.filter(visitor__uuid=visitor).count() == 1


def test_rollups_count_only_new_events():
    batch = page_views(12, visitors=3)
    events_ingest(payloads=batch)
    events_ingest(payloads=batch)
    visitors = Visitor.objects.filter(events__idempotency_key__startswith="pv-").distinct()
    assert sorted(v.page_view_count for v in visitors) == [4, 4, 4]
    assert all(v.section_views == {"dogs": 4} for v in visitors)


def test_cart_and_purchase_rollups_from_one_batch():
    who = uuid.uuid4()
    now = timezone.now()
    events_ingest(
        payloads=[
            event_payload(
                visitor_uuid=who,
                type="add_to_cart",
                properties={"sku": "litter-7l", "price": 1800},
                occurred_at=now - datetime.timedelta(minutes=3),
            ),
            event_payload(
                visitor_uuid=who,
                type="purchase",
                properties={"amount": 1800, "category": "litter"},
                occurred_at=now - datetime.timedelta(minutes=1),
            ),
        ]
    )
    visitor = Visitor.objects.get(uuid=who)
    assert visitor.purchase_count == 1
    assert visitor.total_spend == 1800
    assert visitor.cart == {}  # the purchase came after the addition, whatever the batch order
    assert visitor.first_purchase_at is not None


def test_a_members_events_go_to_their_own_visitor():
    member = MemberFactory()
    own = Visitor.objects.create(user=member)
    browser = uuid.uuid4()
    events_ingest(payloads=[event_payload(visitor_uuid=browser, user_id=member.pk, type="sign_up")])
    assert Event.objects.get(type="sign_up").visitor == own
    assert not Visitor.objects.filter(uuid=browser).exists()


def test_an_anonymous_visitor_becomes_the_member_who_logs_in():
    member = MemberFactory()
    browser = uuid.uuid4()
    events_ingest(payloads=[event_payload(visitor_uuid=browser, user_id=member.pk, type="sign_up")])
    assert Visitor.objects.get(uuid=browser).user == member


def test_events_naming_a_members_visitor_but_not_sent_as_them_never_join_their_history():
    alice, bob, carol = MemberFactory(), MemberFactory(), MemberFactory()
    alices = Visitor.objects.create(user=alice)
    carols = Visitor.objects.create(user=carol)
    named = alices.uuid  # a browser or token Alice used, now anonymous or someone else's

    def goal(name: str, key: str | None = None, **sender) -> dict:
        return event_payload(
            visitor_uuid=named, type="goal", name=name, idempotency_key=key, **sender
        )

    events_ingest(
        payloads=[
            goal("anonymous", "a1", anonymous=True),
            goal("anonymous", "a2", anonymous=True),
            goal("bob", user_id=bob.pk),
            goal("carol", user_id=carol.pk),
            goal("alice", user_id=alice.pk),
            goal("shop server"),  # our own or the shop's server: filed where it names
        ]
    )
    assert set(Event.objects.filter(visitor=alices).values_list("name", flat=True)) == {
        "alice",
        "shop server",
    }
    anonymous = Visitor.objects.get(events__name="anonymous", events__idempotency_key="a1")
    assert anonymous.user is None and anonymous != alices
    assert Event.objects.filter(name="anonymous", visitor=anonymous).count() == 2
    assert Event.objects.get(name="bob").visitor.user == bob  # a new visitor, now Bob's own
    assert Event.objects.get(name="carol").visitor == carols


def test_malformed_events_are_left_out_and_the_rest_stored(caplog):
    good = page_views(2)
    bad = [
        {**good[0], "type": "teleport", "idempotency_key": "bad-1"},
        {**good[0], "visitor": "not-a-uuid", "idempotency_key": "bad-2"},
        {**good[0], "occurred_at": "yesterday", "idempotency_key": "bad-3"},
    ]
    with caplog.at_level(logging.ERROR, logger="personalization.events.ingest"):
        assert events_ingest(payloads=bad + good) == 2
    assert caplog.text.count("Event left out") == 3


def test_a_page_that_no_longer_exists_does_not_fail_the_batch():
    payload = {**page_views(1)[0], "page_id": 10**9}
    assert events_ingest(payloads=[payload]) == 1
    assert Event.objects.get(idempotency_key=payload["idempotency_key"]).page_id is None


def test_tracked_events_get_an_idempotency_key_when_the_client_gave_none(settings, run_jobs):
    settings.JOBS_INLINE = True
    with run_jobs():
        events_track([event_payload(visitor_uuid=uuid.uuid4(), type="goal", name="quiz")])
    key = Event.objects.get(name="quiz").idempotency_key
    assert key and len(key) == 32


def test_when_redis_is_down_every_event_is_stored_synchronously(
    settings, django_capture_on_commit_callbacks, caplog
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.JOBS_INLINE = False
    batch = page_views(20, prefix="down")
    with (
        caplog.at_level(logging.WARNING, logger="personalization.events.ingest"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        events_track(batch[:10])
        events_track(batch[10:])
    assert Event.objects.filter(idempotency_key__startswith="down-").count() == 20
    assert "Redis unavailable" in caplog.text


def test_when_redis_is_down_the_events_api_still_accepts_and_stores(
    settings, django_capture_on_commit_callbacks, caplog
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.JOBS_INLINE = False
    batch = [{"type": "page_view", "idempotency_key": f"api-down-{i}"} for i in range(3)]
    with (
        caplog.at_level(logging.WARNING),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_as(uuid.uuid4()).post("/api/v1/events/", batch, format="json")
    assert response.status_code == 202
    assert Event.objects.filter(idempotency_key__startswith="api-down-").count() == 3
    assert "storing 3 event(s) synchronously" in caplog.text


# CONSENT
# ------------------------------------------------------------------------------


def test_without_analytics_consent_only_necessary_events_are_stored():
    who = uuid.uuid4()
    Consent.objects.create(visitor_uuid=who, analytics=False, personalization=False)
    stored = events_ingest(
        payloads=[
            event_payload(visitor_uuid=who, type=EventType.PAGE_VIEW),
            event_payload(visitor_uuid=who, type=EventType.OFFER_IMPRESSION, name="sale"),
            event_payload(visitor_uuid=who, type=EventType.ADD_TO_CART, properties={"sku": "a"}),
            event_payload(visitor_uuid=who, type=EventType.PURCHASE, properties={"amount": 5}),
        ]
    )
    assert stored == 2
    types = set(Event.objects.filter(visitor__uuid=who).values_list("type", flat=True))
    assert types == {EventType.ADD_TO_CART, EventType.PURCHASE}
    assert Visitor.objects.get(uuid=who).page_view_count == 0


def test_a_members_choice_applies_on_every_device():
    member = MemberFactory()
    Consent.objects.create(user=member, analytics=False)
    events_ingest(
        payloads=[
            event_payload(visitor_uuid=uuid.uuid4(), user_id=member.pk, type=EventType.PAGE_VIEW)
        ]
    )
    assert not Event.objects.filter(type=EventType.PAGE_VIEW, visitor__user=member).exists()


# RETENTION
# ------------------------------------------------------------------------------


def test_purge_deletes_old_raw_events_and_keeps_rollups():
    who = uuid.uuid4()
    old = timezone.now() - datetime.timedelta(days=400)
    events_ingest(
        payloads=[
            event_payload(visitor_uuid=who, type="page_view", occurred_at=old),
            event_payload(visitor_uuid=who, type="purchase", properties={"amount": 10}),
        ]
    )
    deleted = events_purge(before=timezone.now() - datetime.timedelta(days=395), chunk=1)
    assert deleted == 1
    visitor = Visitor.objects.get(uuid=who)
    assert list(visitor.events.values_list("type", flat=True)) == ["purchase"]
    assert visitor.page_view_count == 1 and visitor.purchase_count == 1


ROLLUPS = [
    "user_id",
    "last_seen_at",
    "visit_count",
    "page_view_count",
    "section_views",
    "tag_views",
    "cart",
    "purchase_count",
    "total_spend",
    "categories_bought",
    "first_purchase_at",
    "last_purchase_at",
    "offer_impressions",
    "traits",
]


@pytest.mark.parametrize("event_type", EventType.values)
def test_each_event_type_changes_only_the_fields_the_worker_writes_back(event_type):
    """The worker saves only `fields_changed_by(type)`; a rollup that changed anything else
    would be lost. Every type is applied, with every property a rollup reads, to a visitor
    whose rollups are all set, after a long gap (so a page view also starts a visit)."""
    import copy

    from personalization.events.rollups import apply_event, fields_changed_by

    long_ago = timezone.now() - datetime.timedelta(days=400)
    visitor = Visitor(
        uuid=uuid.uuid4(),
        last_seen_at=long_ago,
        visit_count=3,
        page_view_count=9,
        section_views={"dogs": 2},
        tag_views={"food": 1},
        cart={"items": {"bone": {"quantity": 1, "price": 500.0}}, "updated_at": "2025-01-01"},
        purchase_count=1,
        total_spend=1000,
        categories_bought={"toys": "2025-01-01"},
        first_purchase_at=long_ago,
        last_purchase_at=long_ago,
        offer_impressions={"old": {"day": "2025-01-01", "day_count": 1}},
        traits={"name": "Mika"},
    )
    before = {name: copy.deepcopy(getattr(visitor, name)) for name in ROLLUPS}
    event = Event(
        type=event_type,
        name="winter-sale",
        occurred_at=timezone.now(),
        properties={
            "sku": "litter-7l",
            "price": 1800,
            "quantity": 2,
            "category": "cats",
            "categories": ["cats", "food"],
            "amount": 3600,
        },
    )
    apply_event(visitor, event, section="cats", tags=["litter", "food"])
    changed = {name for name in ROLLUPS if getattr(visitor, name) != before[name]}
    assert "last_seen_at" in changed  # every event moves it: the comparison sees changes
    assert changed <= set(fields_changed_by(event_type)), changed


def test_a_batch_writes_back_every_rollup_it_changed():
    """Page views, a cart, a purchase and an offer impression for one visitor in one batch:
    every rollup they move is in the database afterwards."""
    visitor = uuid.uuid4()
    now = timezone.now()
    payloads = [
        event_payload(visitor_uuid=visitor, type="page_view", section="dogs", occurred_at=now),
        event_payload(
            visitor_uuid=visitor,
            type="add_to_cart",
            properties={"sku": "bone", "price": 500},
            occurred_at=now + datetime.timedelta(seconds=1),
        ),
        event_payload(
            visitor_uuid=visitor,
            type="offer_impression",
            name="winter-sale",
            occurred_at=now + datetime.timedelta(seconds=2),
        ),
        event_payload(
            visitor_uuid=visitor,
            type="purchase",
            properties={"amount": 500, "category": "toys"},
            occurred_at=now + datetime.timedelta(seconds=3),
        ),
    ]
    assert events_ingest(payloads=payloads) == 4
    row = Visitor.objects.get(uuid=visitor)
    assert (row.visit_count, row.page_view_count, row.section_views) == (1, 1, {"dogs": 1})
    assert row.offer_impressions["winter-sale"]["day_count"] == 1
    assert (row.purchase_count, int(row.total_spend)) == (1, 500)
    assert list(row.categories_bought) == ["toys"]
    assert row.first_purchase_at == row.last_purchase_at == now + datetime.timedelta(seconds=3)
    assert row.cart == {}  # the purchase emptied it
    assert row.last_seen_at == now + datetime.timedelta(seconds=3)


@pytest.mark.parametrize("chunk", [2, 1000])
def test_a_batch_of_many_visitors_writes_the_same_rollups_as_one_event_at_a_time(
    monkeypatch, chunk
):
    """Visitors whose events change different sets of fields (page views only, a purchase,
    both, a cart), written back together, in statements of `chunk` visitors: each ends with the
    rollups a twin gets from the same events stored one at a time."""
    from personalization.events import storing

    monkeypatch.setattr(storing, "UPDATE_CHUNK", chunk)
    now = timezone.now() - datetime.timedelta(hours=1)

    def events_of(visitor, number):
        at = [now + datetime.timedelta(minutes=number, seconds=s) for s in range(3)]
        view = {"type": "page_view", "section": f"s{number % 3}"}
        kinds = [
            [view, view],
            [{"type": "purchase", "properties": {"amount": 1200 + number, "category": "toys"}}],
            [view, {"type": "purchase", "properties": {"amount": 800, "category": "food"}}],
            [{"type": "add_to_cart", "properties": {"sku": f"sku{number}", "price": 300}}],
        ][number % 4]
        return [
            event_payload(visitor_uuid=visitor, occurred_at=when, **kind)
            for when, kind in zip(at, kinds, strict=False)
        ]

    batched, single = [uuid.uuid4() for _ in range(9)], [uuid.uuid4() for _ in range(9)]
    payloads = [p for n, v in enumerate(batched) for p in events_of(v, n)]
    assert events_ingest(payloads=payloads) == len(payloads)
    for n, visitor in enumerate(single):
        for payload in events_of(visitor, n):
            assert events_ingest(payloads=[payload]) == 1
    for ours, twin in zip(batched, single, strict=True):
        got, expected = Visitor.objects.get(uuid=ours), Visitor.objects.get(uuid=twin)
        assert {name: getattr(got, name) for name in ROLLUPS} == {
            name: getattr(expected, name) for name in ROLLUPS
        }
