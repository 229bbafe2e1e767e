"""Per-visitor rollups: how one event changes the counters segments read.

Called by the event job for every newly stored event, so that resolving a visitor's segments
reads a handful of fields instead of scanning their history.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from personalization.models import EventType


def _bump(counter: dict, key: str | None, by: int = 1) -> None:
    if key:
        counter[key] = int(counter.get(key, 0)) + by


def _money(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("0")
    return amount if amount.is_finite() and amount >= 0 else Decimal("0")


def apply_page_view(
    visitor, occurred_at: datetime.datetime, section: str | None, tags: list[str]
) -> None:
    """Count the view, its section and tags, and a new visit after 30 idle minutes."""
    timeout = datetime.timedelta(minutes=settings.VISIT_TIMEOUT_MINUTES)
    if visitor.last_seen_at is None or occurred_at - visitor.last_seen_at > timeout:
        visitor.visit_count += 1
    visitor.page_view_count += 1
    _bump(visitor.section_views, section)
    for tag in tags:
        _bump(visitor.tag_views, tag)


def apply_cart(visitor, event_type: str, properties: dict, occurred_at) -> None:
    """Keep the cart's items (by SKU) and when it last changed."""
    cart = visitor.cart or {}
    items = cart.setdefault("items", {})
    sku = str(properties.get("sku") or properties.get("product") or "item")[:64]
    if event_type == EventType.ADD_TO_CART:
        entry = items.setdefault(sku, {"quantity": 0})
        entry["quantity"] = int(entry.get("quantity", 0)) + max(
            int(properties.get("quantity", 1) or 1), 1
        )
        entry["price"] = float(_money(properties.get("price", entry.get("price", 0))))
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
    visitor.purchase_count += 1
    visitor.total_spend = (visitor.total_spend or Decimal("0")) + _money(properties.get("amount"))
    day = timezone.localdate(occurred_at).isoformat()
    categories = properties.get("categories") or [properties.get("category")]
    for category in categories:
        if category:
            name = str(category)[:64]
            previous = visitor.categories_bought.get(name)
            visitor.categories_bought[name] = max(previous or day, day)
    if visitor.first_purchase_at is None or occurred_at < visitor.first_purchase_at:
        visitor.first_purchase_at = occurred_at
    if visitor.last_purchase_at is None or occurred_at > visitor.last_purchase_at:
        visitor.last_purchase_at = occurred_at
    visitor.cart = {}


def apply_offer_impression(visitor, offer: str, occurred_at: datetime.datetime) -> None:
    """Count an offer's impressions per local day and ISO week (for frequency caps)."""
    local = timezone.localdate(occurred_at)
    year, number, _ = local.isocalendar()
    day, week = local.isoformat(), f"{year}-W{number:02d}"
    entry = visitor.offer_impressions.get(offer) or {}
    if entry.get("day") != day:
        entry["day"], entry["day_count"] = day, 0
    if entry.get("week") != week:
        entry["week"], entry["week_count"] = week, 0
    entry["day_count"] += 1
    entry["week_count"] += 1
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
        "cart",
    ),
    EventType.OFFER_IMPRESSION: ("offer_impressions",),
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
    if visitor.last_seen_at is None or occurred > visitor.last_seen_at:
        visitor.last_seen_at = occurred
