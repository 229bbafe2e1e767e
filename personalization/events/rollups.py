"""Per-visitor rollups: how one event changes the counters segments read.

Called by the event job for every newly stored event, so that resolving a visitor's segments
reads a handful of fields instead of scanning their history. Every number is clamped to its
bounds as it is read and as it accumulates (`personalization.events.properties`), and a stored
value of the wrong shape starts afresh: a row an older version wrote never fails a batch.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from personalization.commerce.recent import recent_products_add
from personalization.events.models import EventType
from personalization.events.properties import (
    MAX_COUNT,
    MAX_QUANTITY,
    clamp_amount,
    clamp_count,
    clamp_quantity,
)
from personalization.models import Visitor

MAX_VISITOR_COUNT = 2**31 - 1  # the visitor's integer columns
_spend = Visitor._meta.get_field("total_spend")
MAX_TOTAL_SPEND = Decimal(  # the most the column holds: 999999999999.99
    "9" * (_spend.max_digits - _spend.decimal_places) + "." + "9" * _spend.decimal_places
)


def _dict(value) -> dict:
    """A stored JSON object, or a fresh one when the row holds something else."""
    return value if isinstance(value, dict) else {}


def _bump(counter: dict, key: str | None, by: int = 1) -> None:
    if key:
        counter[key] = min(clamp_count(counter.get(key, 0)) + by, MAX_COUNT)


def _count_up(value: int | None) -> int:
    return min((value or 0) + 1, MAX_VISITOR_COUNT)


def _money(value) -> Decimal:
    """An amount as money: finite, from 0 to MAX_AMOUNT."""
    return Decimal(str(clamp_amount(value)))


def _count_visit(visitor, occurred_at: datetime.datetime) -> None:
    """A new visit when the visitor was idle for VISIT_TIMEOUT_MINUTES (or never seen)."""
    timeout = datetime.timedelta(minutes=settings.VISIT_TIMEOUT_MINUTES)
    if visitor.last_seen_at is None or occurred_at - visitor.last_seen_at > timeout:
        visitor.visit_count = _count_up(visitor.visit_count)


def apply_page_view(
    visitor, occurred_at: datetime.datetime, section: str | None, tags: list[str]
) -> None:
    """Count the view, its section and tags, and a new visit after 30 idle minutes."""
    _count_visit(visitor, occurred_at)
    visitor.page_view_count = _count_up(visitor.page_view_count)
    visitor.section_views = _dict(visitor.section_views)
    visitor.tag_views = _dict(visitor.tag_views)
    _bump(visitor.section_views, section)
    for tag in tags:
        _bump(visitor.tag_views, tag)


def apply_cart(visitor, event_type: str, properties: dict, occurred_at) -> None:
    """Keep the cart's items (by SKU) and when it last changed."""
    cart = _dict(visitor.cart)
    items = cart["items"] = _dict(cart.get("items"))
    sku = str(properties.get("sku") or properties.get("product") or "item")[:64]
    if event_type == EventType.ADD_TO_CART:
        entry = items[sku] = _dict(items.get(sku))
        held = clamp_count(entry.get("quantity", 0))
        added = clamp_quantity(properties.get("quantity", 1))
        entry["quantity"] = min(held + added, MAX_QUANTITY)
        entry["price"] = clamp_amount(properties.get("price", entry.get("price", 0)))
        if properties.get("category"):
            entry["category"] = str(properties["category"])[:64]
    elif event_type == EventType.REMOVE_FROM_CART:
        items.pop(sku, None)
    elif event_type == EventType.CHECKOUT:
        cart["checkout_at"] = occurred_at.isoformat()
    cart["updated_at"] = occurred_at.isoformat()
    visitor.cart = cart


def apply_purchase(visitor, properties: dict, occurred_at: datetime.datetime) -> None:
    """Count the purchase, add its amount and categories, and empty the cart."""
    visitor.purchase_count = _count_up(visitor.purchase_count)
    spend = (visitor.total_spend or Decimal("0")) + _money(properties.get("amount"))
    visitor.total_spend = min(spend, MAX_TOTAL_SPEND)
    day = timezone.localdate(occurred_at).isoformat()
    categories = properties.get("categories")
    if not isinstance(categories, list) or not categories:
        categories = [properties.get("category")]
    visitor.categories_bought = bought = _dict(visitor.categories_bought)
    for category in categories:
        if category:
            name = str(category)[:64]
            previous = bought.get(name)
            bought[name] = max(previous, day) if isinstance(previous, str) else day
    if visitor.first_purchase_at is None or occurred_at < visitor.first_purchase_at:
        visitor.first_purchase_at = occurred_at
    if visitor.last_purchase_at is None or occurred_at > visitor.last_purchase_at:
        visitor.last_purchase_at = occurred_at
    skus = properties.get("skus")
    if isinstance(skus, list) and skus:
        visitor.products_bought = recent_products_add(visitor.products_bought, skus, day)
    visitor.cart = {}


def apply_product_view(visitor, properties: dict, occurred_at: datetime.datetime) -> None:
    """Keep the product among the visitor's recently viewed (SKU → local day, the 50 most
    recent). A product page is a page the visitor navigated to, so it starts a new visit after
    30 idle minutes like a page view — otherwise a visit that begins on a product page would
    go uncounted, its event having moved `last_seen_at` on — but it is not counted as a page
    view: page views, sections and tags stay the CMS pages' (a frontend that reports both a
    `page_view` and a `product_view` for one product page is not counted twice)."""
    _count_visit(visitor, occurred_at)
    sku = properties.get("sku")
    if isinstance(sku, str) and sku:
        day = timezone.localdate(occurred_at).isoformat()
        visitor.products_viewed = recent_products_add(visitor.products_viewed, [sku], day)


def apply_offer_impression(visitor, offer: str, occurred_at: datetime.datetime) -> None:
    """Count an offer's impressions per local day and ISO week (for frequency caps)."""
    local = timezone.localdate(occurred_at)
    year, number, _ = local.isocalendar()
    day, week = local.isoformat(), f"{year}-W{number:02d}"
    visitor.offer_impressions = _dict(visitor.offer_impressions)
    entry = _dict(visitor.offer_impressions.get(offer))
    if entry.get("day") != day:
        entry["day"], entry["day_count"] = day, 0
    if entry.get("week") != week:
        entry["week"], entry["week_count"] = week, 0
    entry["day_count"] = min(clamp_count(entry["day_count"]) + 1, MAX_COUNT)
    entry["week_count"] = min(clamp_count(entry["week_count"]) + 1, MAX_COUNT)
    visitor.offer_impressions[offer] = entry


# The visitor fields each event type's rollup may change, beside `last_seen_at` (any event):
# the event job writes back only these (tests/pipeline/test_ingest.py checks every type).
FIELDS_CHANGED_BY = {
    EventType.PAGE_VIEW: ("visit_count", "page_view_count", "section_views", "tag_views"),
    EventType.ADD_TO_CART: ("cart",),
    EventType.REMOVE_FROM_CART: ("cart",),
    EventType.CHECKOUT: ("cart",),
    EventType.PURCHASE: (
        "purchase_count",
        "total_spend",
        "categories_bought",
        "first_purchase_at",
        "last_purchase_at",
        "products_bought",
        "cart",
    ),
    EventType.OFFER_IMPRESSION: ("offer_impressions",),
    EventType.PRODUCT_VIEW: ("visit_count", "products_viewed"),
}


def fields_changed_by(event_type: str) -> tuple[str, ...]:
    """The visitor fields `apply_event` may change for an event of this type."""
    return ("last_seen_at", *FIELDS_CHANGED_BY.get(event_type, ()))


def apply_event(visitor, event, section: str | None = None, tags: list[str] | None = None) -> None:
    """Fold one stored event into its visitor's rollups (only `fields_changed_by` its type)."""
    occurred = event.occurred_at
    if event.type == EventType.PAGE_VIEW:
        apply_page_view(visitor, occurred, section, tags or [])
    elif event.type in (EventType.ADD_TO_CART, EventType.REMOVE_FROM_CART, EventType.CHECKOUT):
        apply_cart(visitor, event.type, event.properties, occurred)
    elif event.type == EventType.PURCHASE:
        apply_purchase(visitor, event.properties, occurred)
    elif event.type == EventType.OFFER_IMPRESSION and event.name:
        apply_offer_impression(visitor, event.name, occurred)
    elif event.type == EventType.PRODUCT_VIEW:
        apply_product_view(visitor, event.properties, occurred)
    if visitor.last_seen_at is None or occurred > visitor.last_seen_at:
        visitor.last_seen_at = occurred
