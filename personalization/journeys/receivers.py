"""Journeys react to stored events (entered, restarted, cancelled, converted), in the event
pipeline's transaction."""

from __future__ import annotations

from django.dispatch import receiver

from personalization.events.signals import events_stored
from personalization.journeys.entering import journeys_on_events


@receiver(events_stored)
def journeys_follow_events(sender, stored, **kwargs) -> None:
    journeys_on_events(events=[event for event, _ in stored])
