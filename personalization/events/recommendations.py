"""Recommendations as events: each product the recommender picks for a visitor is recorded as a
`recommendation_impression` (sku, arm, block), queued with the request's other events — one
Redis call, nothing written on the request path — and stored under the visitor's analytics
consent like any event that is not strictly necessary. Clicks come from the cards' script."""

from __future__ import annotations

from django.dispatch import receiver

from personalization.commerce.recommend import Recommendation, recommendations_shown
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_track


def impression_payloads(request, items: list[Recommendation]) -> list[dict]:
    user = getattr(request, "user", None)
    member = user if user is not None and user.is_authenticated else None
    return [
        event_payload(
            visitor_uuid=request.visitor_uuid,
            user_id=member.pk if member else None,
            anonymous=member is None,
            type=EventType.RECOMMENDATION_IMPRESSION,
            properties={"sku": item.sku, "arm": item.arm, "block": item.block},
        )
        for item in items
    ]


@receiver(recommendations_shown)
def recommendation_impressions_track(sender, request, items, **kwargs) -> None:
    if getattr(request, "visitor_uuid", None) is None:
        return
    events_track(impression_payloads(request, items))
