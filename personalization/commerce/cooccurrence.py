"""Item-to-item co-occurrence: which products the same visitors viewed together and bought
together, rebuilt by a periodic job into `ProductPair` (what the recommender reads).

Computed from the visitors' rollups (`Visitor.products_viewed` / `products_bought`: SKU → the
day last viewed or bought, the 50 most recent each), not from raw events: the rollups live in
the core with the catalogue (the core may not read `personalization.events`), they survive the
events' retention purge, and they are bounded, so a visitor contributes at most 50 × 49 ordered
pairs whatever their history. Two products are "viewed together" (or "bought together") by a
visitor when both were last viewed (bought) within the window (`PRODUCT_PAIRS_WINDOW_DAYS`).

Score of the ordered pair (a, b): the pair's weight, views plus `BOUGHT_WEIGHT` × purchases,
normalised by the weights of each product on its own (cosine: w(a,b) / √(w(a)·w(b)), in 0–1),
so a product everybody views does not top every list. Each product keeps its `PAIRS_PER_PRODUCT`
best partners. The whole table is replaced in one transaction: readers see the old pairs until
the new ones commit, never a half-built table.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections import Counter, defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from personalization.commerce.models import Product, ProductPair
from personalization.models import Visitor

logger = logging.getLogger(__name__)

BOUGHT_WEIGHT = 3  # a purchase together says more than a view together
PAIRS_PER_PRODUCT = 50
LOCK_KEY = 7_319_004  # pg advisory lock: one rebuild at a time


def window_days() -> int:
    return int(getattr(settings, "PRODUCT_PAIRS_WINDOW_DAYS", 30))


_PAIRS_SQL = """
WITH viewed AS (
    SELECT v.id AS visitor_id, e.key AS sku
    FROM {visitor} v CROSS JOIN LATERAL jsonb_each_text(
        CASE WHEN jsonb_typeof(v.products_viewed) = 'object' THEN v.products_viewed
        ELSE '{{}}'::jsonb END) AS e
    WHERE v.merged_into_id IS NULL AND e.value >= %(since)s
), bought AS (
    SELECT v.id AS visitor_id, e.key AS sku
    FROM {visitor} v CROSS JOIN LATERAL jsonb_each_text(
        CASE WHEN jsonb_typeof(v.products_bought) = 'object' THEN v.products_bought
        ELSE '{{}}'::jsonb END) AS e
    WHERE v.merged_into_id IS NULL AND e.value >= %(since)s
), single AS (  -- each product's weight on its own
    SELECT sku, sum(w) AS w FROM (
        SELECT sku, 1 AS w FROM viewed UNION ALL SELECT sku, %(bought_weight)s FROM bought
    ) AS s GROUP BY sku
), together AS (
    SELECT a, b, sum(v) AS viewed, sum(o) AS bought FROM (
        SELECT x.sku AS a, y.sku AS b, 1 AS v, 0 AS o
        FROM viewed x JOIN viewed y ON x.visitor_id = y.visitor_id AND x.sku <> y.sku
        UNION ALL
        SELECT x.sku, y.sku, 0, 1
        FROM bought x JOIN bought y ON x.visitor_id = y.visitor_id AND x.sku <> y.sku
    ) AS t GROUP BY a, b
), scored AS (
    SELECT p.id AS product_id, o.id AS other_id, t.viewed, t.bought,
        (t.viewed + %(bought_weight)s * t.bought) / sqrt(sa.w::float8 * sb.w::float8) AS score
    FROM together t
    JOIN single sa ON sa.sku = t.a
    JOIN single sb ON sb.sku = t.b
    JOIN {product} p ON p.sku = t.a
    JOIN {product} o ON o.sku = t.b
), ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY product_id ORDER BY score DESC, other_id) AS place
    FROM scored
)
INSERT INTO {pair} (product_id, other_id, viewed_together, bought_together, score, computed_at)
SELECT product_id, other_id, viewed, bought, score, %(now)s
FROM ranked WHERE place <= %(per_product)s
"""


def product_pairs_rebuild(*, now: datetime.datetime | None = None) -> int:
    """Replace every ProductPair with the pairs of the visitors' rollups in the window; returns
    how many pairs were written (set-based SQL on PostgreSQL; the embedded SQLite computes the
    same in Python)."""
    now = now or timezone.now()
    since = (timezone.localdate(now) - datetime.timedelta(days=window_days() - 1)).isoformat()
    with transaction.atomic():
        if connection.vendor != "postgresql":
            return _rebuild_in_python(since, now)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute(f"DELETE FROM {quote(ProductPair._meta.db_table)}")
            cursor.execute(
                _PAIRS_SQL.format(
                    visitor=quote(Visitor._meta.db_table),
                    product=quote(Product._meta.db_table),
                    pair=quote(ProductPair._meta.db_table),
                ),
                {
                    "since": since,
                    "now": now,
                    "bought_weight": BOUGHT_WEIGHT,
                    "per_product": PAIRS_PER_PRODUCT,
                },
            )
            return cursor.rowcount


def _recent(history, since: str) -> set[str]:
    if not isinstance(history, dict):
        return set()
    return {sku for sku, day in history.items() if isinstance(day, str) and day >= since}


def _rebuild_in_python(since: str, now: datetime.datetime) -> int:
    single: Counter = Counter()
    viewed: Counter = Counter()
    bought: Counter = Counter()
    rows = Visitor.objects.filter(merged_into__isnull=True).values_list(
        "products_viewed", "products_bought"
    )
    for products_viewed, products_bought in rows.iterator():
        for counter, history, weight in (
            (viewed, products_viewed, 1),
            (bought, products_bought, BOUGHT_WEIGHT),
        ):
            skus = _recent(history, since)
            for sku in skus:
                single[sku] += weight
                for other in skus - {sku}:
                    counter[(sku, other)] += 1
    ids = dict(Product.objects.filter(sku__in=list(single)).values_list("sku", "pk"))
    by_product = defaultdict(list)
    for a, b in set(viewed) | set(bought):
        if a in ids and b in ids:
            weight = viewed[(a, b)] + BOUGHT_WEIGHT * bought[(a, b)]
            score = weight / math.sqrt(single[a] * single[b])
            by_product[a].append((-score, ids[b], b, score))
    pairs = []
    for a, partners in by_product.items():
        for _neg, other_id, b, score in sorted(partners)[:PAIRS_PER_PRODUCT]:
            pairs.append(
                ProductPair(
                    product_id=ids[a],
                    other_id=other_id,
                    viewed_together=viewed[(a, b)],
                    bought_together=bought[(a, b)],
                    score=score,
                    computed_at=now,
                )
            )
    ProductPair.objects.all().delete()
    ProductPair.objects.bulk_create(pairs, batch_size=1000)
    return len(pairs)


def rebuild_product_pairs() -> int:
    """The periodic job (the `reports` queue): rebuild the co-occurrence table."""
    written = product_pairs_rebuild()
    logger.info("Product pairs rebuilt: %d", written)
    return written
