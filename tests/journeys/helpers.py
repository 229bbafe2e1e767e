"""Helpers of the journey tests: a shopper who consented to marketing, and their events."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from personalization.events.services import event_payload, events_ingest
from personalization.models import Consent, Visitor
from tests.factories import MemberFactory

TOKYO = ZoneInfo("Asia/Tokyo")
# A Tuesday morning in the site's time zone, outside the default quiet hours (21:00-08:00).
MORNING = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=TOKYO)


def shopper(*, marketing: bool = True, email: str = "shopper@example.com") -> Visitor:
    """A member with their visitor; consented to marketing unless told otherwise."""
    member = MemberFactory(email=email, username=email, first_name="Mika")
    if marketing:
        Consent.objects.create(user=member, marketing=True)
    return Visitor.objects.create(user=member)


def track(visitor: Visitor, type_: str, **properties) -> None:
    """The visitor does something now (the frozen clock's now)."""
    events_ingest(
        payloads=[
            event_payload(
                visitor_uuid=visitor.uuid,
                user_id=visitor.user_id,
                type=type_,
                properties=properties,
            )
        ]
    )


def messages_at_any_hour() -> None:
    """No quiet hours: a test that sends a journey message without freezing the clock passes
    whatever the hour it runs at (quiet hours are tested in tests/journeys with a frozen clock)."""
    from personalization.journeys.models import MessagingSettings

    config = MessagingSettings.load()
    config.quiet_hours_start = config.quiet_hours_end = None
    config.save()
