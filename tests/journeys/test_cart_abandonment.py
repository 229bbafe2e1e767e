"""The demo's cart-abandonment journey, driven with a frozen clock: add to cart, no purchase
for 2 hours, exactly one email with an unsubscribe link; a second abandonment the same day is
held back by the daily cap; a purchase inside the window cancels; no marketing consent, nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from freezegun import freeze_time

from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.models import (
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyMessage,
    MessageStatus,
)
from personalization.journeys.reports import journey_report
from personalization.models import Consent
from tests.journeys.helpers import MORNING, shopper, track

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def cart_journey() -> Journey:
    return Journey.objects.get(name="Cart abandonment")


def test_an_abandoned_cart_gets_exactly_one_email_with_an_unsubscribe_link(cart_journey):
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(HOUR)
        journeys_evaluate()
        assert mail.outbox == []  # the window is still open
        clock.tick(HOUR + MINUTE)
        journeys_evaluate()
        journeys_evaluate()  # evaluating again sends nothing more
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["shopper@example.com"]
    assert email.subject == "Mika, your cart is waiting"
    assert "litter-7l × 1" in email.body
    assert "/personalization/unsubscribe/" in email.body
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")


def test_a_second_abandonment_the_same_day_is_held_back_by_the_daily_cap(cart_journey):
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(2 * HOUR + MINUTE)
        journeys_evaluate()
        track(visitor, "add_to_cart", sku="cat-tower", price=9800)
        clock.tick(2 * HOUR + MINUTE)
        journeys_evaluate()
    assert len(mail.outbox) == 1
    held_back = JourneyMessage.objects.get(journey=cart_journey, status="suppressed_cap")
    assert held_back.detail == "day cap reached"
    report = journey_report(journey=cart_journey)
    assert (report.entered, report.messaged, report.suppressed_cap) == (2, 1, 1)


def test_a_purchase_inside_the_window_cancels_the_email(cart_journey):
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(HOUR)
        track(visitor, "purchase", amount=1800)
        clock.tick(HOUR + MINUTE)
        journeys_evaluate()
    assert mail.outbox == []
    assert JourneyEntry.objects.get(journey=cart_journey).status == EntryStatus.CANCELLED


def test_a_purchase_after_the_first_email_cancels_the_reminders_still_to_come(cart_journey):
    assert cart_journey.steps.count() > 1  # the demo journey sends a second reminder
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(2 * HOUR + MINUTE)
        journeys_evaluate()
        clock.tick(HOUR)
        track(visitor, "purchase", amount=1800)
        clock.tick(datetime.timedelta(days=3))
        journeys_evaluate()
    assert len(mail.outbox) == 1
    entry = JourneyEntry.objects.get(journey=cart_journey)
    assert entry.status == EntryStatus.CANCELLED and entry.next_step == 1


def test_events_arriving_out_of_order_still_cancel_the_email(cart_journey):
    """The addition (10:00) reaches the database after the purchase (10:20): the window's
    check at 12:00 still finds the purchase."""
    from personalization.events.services import event_payload, events_ingest

    visitor = shopper()
    with freeze_time(MORNING + 30 * MINUTE) as clock:
        for type_, minutes in (("purchase", 20), ("add_to_cart", 0)):
            events_ingest(
                payloads=[
                    event_payload(
                        visitor_uuid=visitor.uuid,
                        type=type_,
                        occurred_at=MORNING + minutes * MINUTE,
                        properties={"sku": "litter-7l", "amount": 1800},
                    )
                ]
            )
        assert JourneyEntry.objects.get(journey=cart_journey).status == EntryStatus.WAITING
        clock.tick(2 * HOUR)
        journeys_evaluate()
    assert mail.outbox == []
    assert JourneyEntry.objects.get(journey=cart_journey).status == EntryStatus.CANCELLED


def test_a_visitor_without_marketing_consent_gets_nothing(cart_journey):
    visitor = shopper(marketing=False)
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(2 * HOUR + MINUTE)
        journeys_evaluate()
    assert mail.outbox == []
    entry = JourneyEntry.objects.get(journey=cart_journey)
    assert entry.status == EntryStatus.SUPPRESSED
    assert entry.messages.get().status == MessageStatus.SUPPRESSED_CONSENT
    assert journey_report(journey=cart_journey).suppressed_consent == 1


def test_three_additions_in_a_row_make_one_reminder_two_hours_after_the_last(cart_journey):
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        for sku in ("a", "b", "c"):
            track(visitor, "add_to_cart", sku=sku, price=100)
            clock.tick(30 * MINUTE)
        clock.tick(HOUR)  # two hours after the first, one and a half after the last
        journeys_evaluate()
        assert mail.outbox == []
        clock.tick(31 * MINUTE)
        journeys_evaluate()
    assert len(mail.outbox) == 1
    assert JourneyEntry.objects.filter(journey=cart_journey).count() == 1


def test_the_unsubscribe_link_stops_further_emails(client, cart_journey):
    visitor = shopper()
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(2 * HOUR + MINUTE)
        journeys_evaluate()
        link = next(w for w in mail.outbox[0].body.split() if "/unsubscribe/" in w)
        path = link.split("://", 1)[1].split("/", 1)[1]
        page = client.get(f"/{path}")
        assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
        done = client.post(f"/{path}")  # one click (also what mail clients POST, RFC 8058)
        assert "You are unsubscribed" in done.content.decode()
        clock.tick(datetime.timedelta(days=1))
        track(visitor, "add_to_cart", sku="cat-tower", price=9800)
        clock.tick(2 * HOUR + MINUTE)
        journeys_evaluate()
    assert len(mail.outbox) == 1
    consent = Consent.objects.get(user=visitor.user)
    assert consent.marketing is False and consent.unsubscribed_at is not None


def test_a_forged_unsubscribe_link_is_refused(client):
    assert client.post("/personalization/unsubscribe/not-a-token/").status_code == 404
