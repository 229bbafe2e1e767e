"""The shop's feed: upsert products by SKU, all or nothing, writing a history row for each
product created or whose price or stock changed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from personalization.commerce.models import TRACKED, Product, ProductChange, changes_announce

# One feed call at a time (a PostgreSQL advisory lock for the transaction): two calls naming the
# same new SKU then never race to create it.
FEED_LOCK = 0x636F6D6D  # "comm"


@dataclass(frozen=True)
class UpsertCounts:
    created: int
    updated: int
    unchanged: int


def products_upsert(items: list[dict]) -> UpsertCounts:
    """Create or update each item (validated: a `sku` and any product fields) by its SKU, in one
    transaction. A field an item leaves out keeps its value (or the default, when created)."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])
        existing = Product.objects.in_bulk([item["sku"] for item in items], field_name="sku")
        created, updated, history = [], [], []
        changed_fields: set[str] = set()
        unchanged = 0
        for item in items:
            product = existing.get(item["sku"])
            if product is None:
                product = Product(**item, updated_at=now)
                created.append(product)
                continue
            differing = {name for name, value in item.items() if getattr(product, name) != value}
            if not differing:
                unchanged += 1
                continue
            for name in differing:
                setattr(product, name, item[name])
            product.updated_at = now
            changed_fields |= differing
            updated.append(product)
            if differing & set(TRACKED):
                history.append(product)
        Product.objects.bulk_create(created)
        if updated:
            Product.objects.bulk_update(updated, [*sorted(changed_fields), "updated_at"])
        rows = ProductChange.objects.bulk_create(
            ProductChange(product=product, price=product.price, stock=product.stock, changed_at=now)
            for product in [*created, *history]
        )
        changes_announce([row.pk for row in rows])
    return UpsertCounts(created=len(created), updated=len(updated), unchanged=unchanged)
