"""The catalogue's receivers: favourites follow a merged visitor, and their rollups follow the
catalogue's price and stock."""

from __future__ import annotations

from django.dispatch import receiver

from config.jobs import enqueue
from personalization.commerce.favourites import favourites_merge
from personalization.commerce.signals import products_changed
from personalization.signals import visitors_merged

REFRESH_JOB = "personalization.commerce.favourites.favourite_rollups_refresh"
REFRESH_BATCH = 1000  # history rows per job (a CSV import may change 100,000 products at once)


@receiver(visitors_merged)
def favourites_follow_merge(sender, source, target, **kwargs) -> None:
    """The anonymous visitor's favourites become the member's (same transaction as the merge)."""
    favourites_merge(source=source, target=target)


@receiver(products_changed)
def favourites_follow_catalogue(sender, change_ids, **kwargs) -> None:
    """A job per committed catalogue change (per REFRESH_BATCH history rows) brings the
    favourites' price and stock up to date in the rollups of everyone who favourited a changed
    product."""
    change_ids = list(change_ids or [])
    for start in range(0, len(change_ids), REFRESH_BATCH):
        enqueue("default", REFRESH_JOB, change_ids[start : start + REFRESH_BATCH])
