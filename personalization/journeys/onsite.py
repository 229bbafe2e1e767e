"""On-site journey messages: made by a step, shown once on the visitor's next page."""

from __future__ import annotations

import datetime
import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from personalization.journeys.models import (
    JourneyMessage,
    MessageStatus,
    StepAction,
)
from personalization.models import Visitor

logger = logging.getLogger(__name__)

ONSITE_FLAG = "personalization:onsite:{}"
ONSITE_MESSAGE_DAYS = 30


def flag_message_waiting(visitor: Visitor) -> None:
    """Tell page views that a message waits: now, and again once it is committed (a page view
    in between finds nothing yet and clears the flag)."""

    def flag() -> None:
        cache.set(ONSITE_FLAG.format(visitor.uuid), 1, ONSITE_MESSAGE_DAYS * 86400)

    flag()
    transaction.on_commit(flag)


# ON-SITE MESSAGES (read by the NotificationBlock and the page's notification slot)
# ------------------------------------------------------------------------------


def onsite_message_take(request, now: datetime.datetime | None = None) -> JourneyMessage | None:
    """The visitor's oldest unshown on-site message, marked shown; at most one per request.

    Costs no query unless the visitor has a message waiting (a cache flag set when one is
    made)."""
    if hasattr(request, "_journey_message_taken"):
        return None
    request._journey_message_taken = True
    visitor_uuid = getattr(request, "visitor_uuid", None)
    if visitor_uuid is None or not cache.get(ONSITE_FLAG.format(visitor_uuid)):
        return None
    visitor = getattr(request, "visitor", None)
    if visitor is None or visitor.pk is None:
        return None
    now = now or timezone.now()
    waiting = JourneyMessage.objects.filter(
        visitor_id=visitor.pk,
        channel=StepAction.ON_SITE,
        status=MessageStatus.SENT,
        shown_at__isnull=True,
        created_at__gte=now - datetime.timedelta(days=ONSITE_MESSAGE_DAYS),
    ).order_by("created_at")
    message = waiting.first()
    if message is None:
        cache.delete(ONSITE_FLAG.format(visitor_uuid))
        return None
    JourneyMessage.objects.filter(pk=message.pk).update(shown_at=now)
    return message
