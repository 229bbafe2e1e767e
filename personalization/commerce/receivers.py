"""The catalogue's receivers: favourites follow a merged visitor, and their rollups follow the
catalogue's price and stock."""

from __future__ import annotations

from django.dispatch import receiver

from config.jobs import enqueue
from personalization.commerce.favourites import favourites_merge
from personalization.commerce.signals import products_changed
from personalization.signals import visitors_merged

REFRESH_JOB = "personalization.commerce.favourites.favourite_rollups_refresh"


@receiver(visitors_merged)
def favourites_follow_merge(sender, source, target, **kwargs) -> None:
    """The anonymous visitor's favourites become the member's (same transaction as the merge)."""
    favourites_merge(source=source, target=target)


@receiver(products_changed)
def favourites_follow_catalogue(sender, change_ids, **kwargs) -> None:
    """A job per committed catalogue change brings the favourites' price and stock up to date
    in the rollups of everyone who favourited a changed product."""
    if change_ids:
        enqueue("default", REFRESH_JOB, list(change_ids))
