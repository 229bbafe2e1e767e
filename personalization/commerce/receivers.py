"""The catalogue's receivers: favourites follow a merged visitor, their rollups follow the
catalogue, and the catalogue's version token (`commerce.version`) follows every change."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from config.jobs import enqueue
from personalization.commerce.favourites import favourites_merge
from personalization.commerce.models import Favourite, Product
from personalization.commerce.signals import products_changed
from personalization.commerce.version import catalogue_bump
from personalization.signals import visitors_merged

REFRESH_JOB = "personalization.commerce.favourites.favourite_rollups_refresh"
REBUILD_JOB = "personalization.commerce.favourites.favourite_rollups_rebuild"
REFRESH_BATCH = 1000  # history rows per job (a CSV import may change 100,000 products at once)


@receiver(visitors_merged)
def favourites_follow_merge(sender, source, target, **kwargs) -> None:
    """The anonymous visitor's favourites become the member's (same transaction as the merge)."""
    favourites_merge(source=source, target=target)


@receiver(products_changed)
def version_follows_catalogue(sender, **kwargs) -> None:
    """Whatever was built from the catalogue (rendered product lists, snapshots) is stale."""
    catalogue_bump()


@receiver(post_delete, sender=Product)
def version_follows_deletion(sender, **kwargs) -> None:
    transaction.on_commit(catalogue_bump)


@receiver(pre_delete, sender=Product)
def favourites_follow_deletion(sender, instance, **kwargs) -> None:
    """A deleted product's favourites go with it (cascade): the rollups of those who kept it are
    rebuilt once the deletion commits."""
    visitor_ids = sorted(
        set(Favourite.objects.filter(product_id=instance.pk).values_list("visitor_id", flat=True))
    )
    for start in range(0, len(visitor_ids), REFRESH_BATCH):
        batch = visitor_ids[start : start + REFRESH_BATCH]
        transaction.on_commit(lambda batch=batch: enqueue("default", REBUILD_JOB, batch))


@receiver(products_changed)
def favourites_follow_catalogue(sender, change_ids, product_ids=(), **kwargs) -> None:
    """A job per committed catalogue change (per REFRESH_BATCH changed rows) brings the
    favourites' price, stock and active flag up to date in the rollups of everyone who
    favourited a changed product."""
    change_ids, product_ids = list(change_ids or []), list(product_ids or [])
    for start in range(0, len(change_ids), REFRESH_BATCH):
        enqueue("default", REFRESH_JOB, change_ids[start : start + REFRESH_BATCH])
    for start in range(0, len(product_ids), REFRESH_BATCH):
        enqueue("default", REFRESH_JOB, [], product_ids[start : start + REFRESH_BATCH])
