"""A product's recent price and stock history as the admin's product list draws it: a small
inline SVG (no JavaScript, no CDN) with one step line for the stock and one for the price, each
scaled to its own range, and a text alternative that says what changed."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from wagtail.admin.ui.tables import Column

from personalization.commerce.models import ProductChange

DAYS = 30
WIDTH, HEIGHT, PAD = 120, 30, 2
STOCK_COLOUR, PRICE_COLOUR = "#1f6f8b", "#b3541e"


def recent_changes(days: int = DAYS) -> Prefetch:
    """Prefetch each product's history rows of the last `days` days into `recent_changes`
    (one query for the whole page of products)."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = ProductChange.objects.filter(changed_at__gte=since).order_by("changed_at", "pk")
    return Prefetch("changes", queryset=rows, to_attr="recent_changes")


def _points(values: Sequence[int], times: Sequence[float]) -> str:
    """A step line: each value holds until the next change, the last until today."""
    low, high = min(values), max(values)
    inner = HEIGHT - 2 * PAD

    def y(value: int) -> float:
        return HEIGHT / 2 if high == low else PAD + inner - (value - low) / (high - low) * inner

    coordinates: list[tuple[float, float]] = []
    for value, moment in zip(values, times, strict=True):
        x = PAD + moment * (WIDTH - 2 * PAD)
        if coordinates:
            coordinates.append((x, coordinates[-1][1]))
        coordinates.append((x, y(value)))
    coordinates.append((WIDTH - PAD, coordinates[-1][1]))
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)


def history_summary(changes: Sequence[ProductChange], price: int, stock: int) -> str:
    """The sparkline's words: "Stock 12 → 3 · price ¥1,280 → ¥980 (30 days)"."""
    first = changes[0] if changes else None
    start_stock = first.stock if first else stock
    start_price = first.price if first else price
    text = _(
        "Stock %(from_stock)s → %(stock)s · price ¥%(from_price)s → ¥%(price)s (%(days)s days)"
    )
    return text % {
        "from_stock": f"{start_stock:,}",
        "stock": f"{stock:,}",
        "from_price": f"{start_price:,}",
        "price": f"{price:,}",
        "days": DAYS,
    }


def sparkline_svg(changes: Sequence[ProductChange], price: int, stock: int) -> SafeString:
    """Stock (blue, solid) and price (orange, dashed) over the last days, ending at today's
    values."""
    now = timezone.now()
    since = now - datetime.timedelta(days=DAYS)
    total = (now - since).total_seconds()
    times = [max(0.0, (c.changed_at - since).total_seconds() / total) for c in changes]
    stocks = [c.stock for c in changes]
    prices = [c.price for c in changes]
    if not changes or (stocks[-1], prices[-1]) != (stock, price):
        times.append(1.0)
        stocks.append(stock)
        prices.append(price)
    if len(times) == 1:  # unchanged for the whole period: a flat line from the start
        times.insert(0, 0.0)
        stocks.insert(0, stock)
        prices.insert(0, price)
    summary = escape(history_summary(changes, price, stock))
    return mark_safe(  # noqa: S308 - numbers and escaped text only
        f'<svg class="product-history" role="img" aria-label="{summary}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
        f"<title>{summary}</title>"
        f'<polyline data-series="stock" fill="none" stroke="{STOCK_COLOUR}" stroke-width="1.5" '
        f'points="{_points(stocks, times)}"/>'
        f'<polyline data-series="price" fill="none" stroke="{PRICE_COLOUR}" stroke-width="1.5" '
        f'stroke-dasharray="3 2" points="{_points(prices, times)}"/>'
        "</svg>"
    )


class HistoryColumn(Column):
    """The product list's "Last 30 days" column (products prefetched with `recent_changes`)."""

    def get_value(self, instance):
        changes = getattr(instance, "recent_changes", None)
        if changes is None:
            since = timezone.now() - datetime.timedelta(days=DAYS)
            changes = list(instance.changes.filter(changed_at__gte=since).order_by("changed_at"))
        return sparkline_svg(changes, instance.price, instance.stock)
