"""Events follow their visitor when an anonymous visitor merges into a member's; favourites
added or removed are recorded as events."""

from __future__ import annotations

from django.dispatch import receiver

from personalization.commerce.signals import favourite_changed
from personalization.events.models import Event, EventType
from personalization.events.services import event_payload, events_track
from personalization.signals import visitors_merged


@receiver(visitors_merged)
def events_follow_merge(sender, source, target, **kwargs) -> None:
    """The anonymous history becomes the member's (same transaction as the merge)."""
    Event.objects.filter(visitor=source).update(visitor=target)


@receiver(favourite_changed)
def favourite_change_recorded(sender, visitor, product, added: bool, **kwargs) -> None:
    """`favourite_added` / `favourite_removed` through the pipeline, once the change commits
    (stored only with analytics consent, as any event that is not strictly necessary)."""
    events_track(
        [
            event_payload(
                visitor_uuid=visitor.uuid,
                user_id=visitor.user_id,
                type=EventType.FAVOURITE_ADDED if added else EventType.FAVOURITE_REMOVED,
                properties={"sku": product.sku, "category": product.category},
            )
        ]
    )
