"""Catalogue-triggered journeys: when the shop's feed (or an editor) changes products, members
whose favourites fired enter the journeys of these triggers, one entry per member and batch
listing every product that fired; the engine then runs their steps like any other journey's.

- low stock: the stock fell from above the journey's threshold to at most it, and is still above
  0 ("almost gone" means still buyable; reaching 0 is out of stock, which is not announced);
- back in stock: the stock went from 0 to more than 0;
- price drop: the new price is at most the old one less the journey's percentage.

A batch is one `products_changed` signal (one feed call, import or save): its receiver queues
one job (`journeys_on_catalogue`) for it. Each changed product is compared over the whole batch:
its price and stock before the batch's first history row for it (the row before, by id) with
those of the batch's last row for it. Products created in the batch, or inactive, fire nothing.
Only members enter (anonymous visitors cannot be written to); consent, unsubscribe, caps, quiet
hours and the segment are checked by the engine when the step is due, as for every journey.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Min, OuterRef, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from config.jobs import enqueue
from personalization.commerce.models import Favourite, Product, ProductChange
from personalization.journeys.links import tracked_url
from personalization.journeys.models import (
    CATALOGUE_TRIGGERS,
    Journey,
    JourneyEntry,
    JourneyStatus,
    TriggerKind,
)
from personalization.privacy.unsubscribe import absolute_url

logger = logging.getLogger(__name__)

CHUNK = 2000
IMAGE_SPEC = "fill-240x240"


# QUEUEING (a receiver of `products_changed`)
# ------------------------------------------------------------------------------


def catalogue_changes_enqueue(change_ids: list[int]) -> None:
    """One job for this batch of history rows, when a catalogue journey is active."""
    if not change_ids:
        return
    active = Journey.objects.filter(status=JourneyStatus.ACTIVE, trigger__in=CATALOGUE_TRIGGERS)
    if not active.exists():
        return
    # By path: the jobs module imports this one.
    enqueue("default", "personalization.journeys.jobs.catalogue_changed", sorted(change_ids))


# EVALUATING A BATCH (the job)
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """One product's price and stock before the batch and after it."""

    product: Product
    old_price: int
    old_stock: int
    price: int
    stock: int

    def fires(self, journey: Journey) -> bool:
        if journey.trigger == TriggerKind.FAVOURITE_LOW_STOCK:
            threshold = journey.stock_threshold or 0
            return self.old_stock > threshold >= self.stock > 0
        if journey.trigger == TriggerKind.FAVOURITE_BACK_IN_STOCK:
            return self.old_stock == 0 and self.stock > 0
        if journey.trigger == TriggerKind.FAVOURITE_PRICE_DROP:
            percent = journey.price_drop_percent or 0
            # Whole yen, no rounding: new ≤ old × (1 − X %).
            return (
                percent > 0
                and self.price < self.old_price
                and (self.price * 100 <= self.old_price * (100 - percent))
            )
        return False

    def context(self) -> dict[str, Any]:
        """What the entry keeps of the product (the email's `products` are made from it)."""
        return {
            "sku": self.product.sku,
            "name": self.product.name,
            "price": self.price,
            "old_price": self.old_price,
            "stock": self.stock,
            "old_stock": self.old_stock,
        }


def journeys_on_catalogue(*, change_ids: list[int], now=None) -> int:
    """Enter the members whose favourites fired in this batch into the active catalogue
    journeys; the number of entries made (running the job again makes none)."""
    now = now or timezone.now()
    journeys = list(
        Journey.objects.filter(status=JourneyStatus.ACTIVE, trigger__in=CATALOGUE_TRIGGERS)
    )
    if not journeys or not change_ids:
        return 0
    batch = min(change_ids)
    entered = 0
    moved = _moved(change_ids)
    for journey in journeys:
        fired = {m.product.pk: m for m in moved if m.fires(journey)}
        if not fired:
            continue
        per_member: dict[int, list[dict]] = defaultdict(list)
        favourites = (
            Favourite.objects.filter(
                product_id__in=fired,
                visitor__user__isnull=False,
                visitor__merged_into__isnull=True,
            )
            .order_by("visitor_id", "product__sku")
            .values_list("visitor_id", "product_id")
        )
        for visitor_id, product_id in favourites.iterator(chunk_size=CHUNK):
            per_member[visitor_id].append(fired[product_id].context())
        entries = [
            JourneyEntry(
                journey=journey,
                visitor_id=visitor_id,
                # Per journey (the constraint), batch and member: the job may run twice.
                trigger_key=f"catalogue:{batch}:{visitor_id}",
                trigger_context={"trigger": journey.trigger, "products": products},
                triggered_at=now,
                step_base_at=now,
                next_run_at=now,
            )
            for visitor_id, products in per_member.items()
        ]
        keys = [entry.trigger_key for entry in entries]
        known = JourneyEntry.objects.filter(journey=journey, trigger_key__in=keys).count()
        JourneyEntry.objects.bulk_create(entries, batch_size=1000, ignore_conflicts=True)
        entered += (
            JourneyEntry.objects.filter(journey=journey, trigger_key__in=keys).count() - known
        )
        logger.info(
            "Catalogue batch %s: %d product(s) fired %s for %d member(s)",
            batch,
            len(fired),
            journey,
            len(entries),
        )
    return entered


def _moved(change_ids: list[int]) -> list[Moved]:
    """Each product changed in the batch, with its values before and after it (products created
    in the batch, having no "before", are left out; so are inactive ones)."""
    ids = sorted(set(change_ids))
    spans: dict[int, tuple[int, int]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (
            ProductChange.objects.filter(pk__in=ids[start : start + CHUNK])
            .values("product_id")
            .annotate(first=Min("pk"), last=Max("pk"))
        )
        for row in rows:
            first, last = spans.get(row["product_id"], (row["first"], row["last"]))
            spans[row["product_id"]] = (min(first, row["first"]), max(last, row["last"]))
    moved = []
    product_ids = list(spans)
    for start in range(0, len(product_ids), CHUNK):
        chunk = product_ids[start : start + CHUNK]
        products = Product.objects.filter(pk__in=chunk, active=True).in_bulk()
        previous = ProductChange.objects.filter(
            product_id=OuterRef("product_id"), pk__lt=OuterRef("pk")
        ).order_by("-pk")
        befores = {
            row["product_id"]: row
            for row in ProductChange.objects.filter(pk__in=[spans[p][0] for p in products])
            .annotate(
                old_price=Subquery(previous.values("price")[:1]),
                old_stock=Subquery(previous.values("stock")[:1]),
            )
            .values("product_id", "old_price", "old_stock")
        }
        lasts = ProductChange.objects.in_bulk([spans[p][1] for p in products])
        for product_id, product in products.items():
            before = befores.get(product_id)
            if before is None or before["old_price"] is None:
                continue  # created in this batch
            after = lasts[spans[product_id][1]]
            moved.append(
                Moved(product, before["old_price"], before["old_stock"], after.price, after.stock)
            )
    return moved


# THE EMAIL'S `products`
# ------------------------------------------------------------------------------


def products_variable(entry: JourneyEntry, step_id: int | None) -> list[dict[str, Any]]:
    """The products of a catalogue entry, for the templates: name, sku, price, old_price (None
    unless the price changed), stock (as they were when they fired), url (the site's product
    page in the active language, through the tracked link of this message) and image_url
    (empty without an image)."""
    items = (entry.trigger_context or {}).get("products") or []
    if not isinstance(items, list) or not items:
        return []
    skus = [item.get("sku") for item in items if isinstance(item, dict)]
    products = Product.objects.select_related("image").in_bulk(skus, field_name="sku")
    result = []
    for item in items:
        if not isinstance(item, dict) or not item.get("sku"):
            continue
        product = products.get(item["sku"])
        result.append(
            {
                "name": product.name if product else item.get("name", ""),
                "sku": item["sku"],
                "price": item.get("price"),
                # Only when the price changed: `{% if p.old_price %}` reads "was ¥…".
                "old_price": item.get("old_price")
                if item.get("old_price") != item.get("price")
                else None,
                "stock": item.get("stock"),
                "url": _product_url(entry, step_id, item["sku"], product),
                "image_url": _image_url(product),
            }
        )
    return result


def _product_url(entry: JourneyEntry, step_id: int | None, sku: str, product) -> str:
    try:
        path = reverse("product-page", args=[sku])
    except NoReverseMatch:  # no product pages on this site: the shop's own page, untracked
        return product.url if product else ""
    if entry.pk is None or step_id is None:
        return absolute_url(path)
    return tracked_url(entry_id=entry.pk, step_id=step_id, path=path)


def _image_url(product) -> str:
    if product is None or product.image is None:
        return ""
    try:
        url = product.image.get_rendition(IMAGE_SPEC).url
    except Exception:  # a missing or unreadable file: the email goes without the picture
        logger.warning("No rendition of product %s's image", product.sku, exc_info=True)
        return ""
    return url if url.startswith(("http://", "https://")) else absolute_url(url)
