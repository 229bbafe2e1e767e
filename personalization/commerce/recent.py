"""A visitor's recent products: `Visitor.products_viewed` and `Visitor.products_bought`, each a
JSON object of SKU → the local day (ISO date) it was last viewed or bought, bounded to the
`RECENT_PRODUCTS` most recent. The event job keeps them (`personalization.events.rollups`), the
co-occurrence job and the recommender read them. Pure: plain dicts in and out.
"""

from __future__ import annotations

RECENT_PRODUCTS = 50  # SKUs kept per rollup: the co-occurrence job pairs at most 50 × 49
MAX_SKU_LENGTH = 64  # Product.sku


def _valid(history) -> dict[str, str]:
    """The stored rollup's well-formed entries (a value of another shape starts afresh)."""
    if not isinstance(history, dict):
        return {}
    return {
        str(sku)[:MAX_SKU_LENGTH]: day
        for sku, day in history.items()
        if sku and isinstance(day, str) and len(day) == 10
    }


def recent_products_add(history, skus, day: str, *, limit: int = RECENT_PRODUCTS) -> dict:
    """`history` with each of `skus` seen on `day` (a later day is kept when it holds one), and
    only the `limit` most recent entries: the oldest days go first, and the SKUs just added are
    kept (ties on a day are broken by SKU, so the result never depends on key order, which a
    jsonb column does not keep)."""
    result = _valid(history)
    added = []
    for sku in skus:
        if not isinstance(sku, str) or not sku:
            continue
        sku = sku[:MAX_SKU_LENGTH]
        previous = result.get(sku)
        result[sku] = max(previous, day) if previous else day
        added.append(sku)
    if len(result) > limit:
        fresh = set(added)
        order = sorted(result.items(), key=lambda item: (item[0] in fresh, item[1], item[0]))
        for sku, _day in order[: len(result) - limit]:
            del result[sku]
    return result


def recent_products_merge(target, source, *, limit: int = RECENT_PRODUCTS) -> dict:
    """Two visitors' rollups as one (an anonymous visitor joining a member): the later day of
    each SKU, bounded like `recent_products_add`."""
    result = _valid(target)
    for sku, day in _valid(source).items():
        result[sku] = max(result.get(sku, day), day)
    if len(result) > limit:
        order = sorted(result.items(), key=lambda item: (item[1], item[0]), reverse=True)
        result = dict(order[:limit])
    return result


def recent_skus(history, *, limit: int | None = None) -> list[str]:
    """The SKUs of a rollup, most recent first (ties by SKU)."""
    order = sorted(_valid(history).items(), key=lambda item: (item[1], item[0]), reverse=True)
    skus = [sku for sku, _day in order]
    return skus[:limit] if limit is not None else skus
