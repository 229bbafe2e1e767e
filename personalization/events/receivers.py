"""Events follow their visitor when an anonymous visitor merges into a member's."""

from __future__ import annotations

from django.dispatch import receiver

from personalization.events.models import Event
from personalization.signals import visitors_merged


@receiver(visitors_merged)
def events_follow_merge(sender, source, target, **kwargs) -> None:
    """The anonymous history becomes the member's (same transaction as the merge)."""
    Event.objects.filter(visitor=source).update(visitor=target)
