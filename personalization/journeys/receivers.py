"""Journeys react to stored events (entered, restarted, cancelled, converted), in the event
pipeline's transaction, and to committed catalogue changes (a job per batch)."""

from __future__ import annotations

from django.dispatch import receiver

from personalization.commerce.signals import products_changed
from personalization.events.signals import events_stored
from personalization.journeys.catalogue import catalogue_changes_enqueue
from personalization.journeys.entering import journeys_on_events


@receiver(events_stored)
def journeys_follow_events(sender, stored, **kwargs) -> None:
    journeys_on_events(events=[event for event, _ in stored])


@receiver(products_changed)
def journeys_follow_catalogue(sender, change_ids, **kwargs) -> None:
    catalogue_changes_enqueue(change_ids)
