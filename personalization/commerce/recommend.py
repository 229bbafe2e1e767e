"""The recommender: "picked for you" products for the request's visitor.

`recommendations_for(request, limit=…, exploration=…, block_id=…)` is the public function the
recommendations block, the page API and the product pages call. It reads what the visitor did
from the rollups already loaded with the visitor (`products_viewed`, `products_bought`,
`categories_bought`, `favourites_rollup`, the declared or member pet) and asks the database
once: one query returns the candidates — active products in stock, for the visitor's pet, not
just bought nor excluded — in three pools (paired with the visitor's products by the
co-occurrence table, of a known category or the visitor's pet, of any other category), each
pool cut to a few times the slots, with their summed pair scores and a seeded random order
computed in SQL. Ranking and the explore/exploit split are pure (`ranking`). The result is
memoized on the request, so the site's block, its impressions and the API agree.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import MD5, Coalesce, Concat, RowNumber
from django.dispatch import Signal
from django.utils import timezone

from personalization.commerce.models import Product, ProductPair, ProductPet
from personalization.commerce.ranking import (
    AFFINITY,
    EXPLOIT,
    KNOWN,
    OTHER,
    PAIRED,
    Candidate,
    rank,
    seed_of,
)
from personalization.commerce.recent import recent_skus

DEFAULT_EXPLORATION = 0.10
SEED_PRODUCTS = 20  # the visitor's most recent viewed (and bought) products that seed pairs
JUST_BOUGHT_DAYS = 14  # a product bought this recently is not recommended again
POOL_FACTOR = 3  # candidates fetched per pool: a few times the slots
PETS = {ProductPet.DOG, ProductPet.CAT, ProductPet.OTHER}

# Sent when products are picked for a request's visitor (once per request and block), with
# `request` and `items`: the event pipeline records their impressions (the core imports no
# events: `personalization.events.recommendations` listens).
recommendations_shown = Signal()


@dataclass(frozen=True)
class Recommendation:
    """One recommended product and why it is shown (`arm`: "explore" or "exploit")."""

    product: Product
    arm: str
    block: str
    position: int

    @property
    def sku(self) -> str:
        return self.product.sku

    def as_card(self) -> dict:
        """What `commerce/product_card.html` takes as `recommendation`."""
        return {"block": self.block, "arm": self.arm, "position": self.position}


@dataclass(frozen=True)
class Interests:
    """What the visitor's rollups say about them (plain data, read without a query)."""

    visitor_key: str
    seeds: tuple[str, ...]  # recently viewed / bought / favourite SKUs
    viewed: tuple[str, ...]
    categories: dict  # category → affinity (bought, favourite)
    pet: str | None
    just_bought: frozenset[str]


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def interests_of(request, *, today: datetime.date | None = None) -> Interests:
    """The visitor's interests from the rollups loaded with the visitor (no query beyond the
    visitor's own, which the middleware's lazy visitor makes once per request). A visitor who
    withheld personalization consent is a stranger here."""
    visitor = getattr(request, "visitor", None) if request is not None else None
    key = str(getattr(request, "visitor_uuid", "") or "")
    if visitor is None or not getattr(request, "personalization_consent", True):
        return Interests(key, (), (), {}, None, frozenset())
    key = str(visitor.uuid or key)
    if not visitor.pk:
        return Interests(key, (), (), {}, _pet_of(request, visitor), frozenset())
    today = today or timezone.localdate()
    viewed = recent_skus(visitor.products_viewed, limit=SEED_PRODUCTS)
    bought = recent_skus(visitor.products_bought, limit=SEED_PRODUCTS)
    favourites = _dict(visitor.favourites_rollup)
    categories: dict[str, float] = {}
    for category, day in _dict(visitor.categories_bought).items():
        if category and isinstance(day, str):
            categories[category] = AFFINITY["bought"]
    for entry in favourites.values():
        category = _dict(entry).get("category")
        if category and isinstance(category, str):
            categories[category] = max(categories.get(category, 0), AFFINITY["favourite"])
    since = (today - datetime.timedelta(days=JUST_BOUGHT_DAYS)).isoformat()
    just_bought = frozenset(
        sku
        for sku, day in _dict(visitor.products_bought).items()
        if isinstance(day, str) and day >= since
    )
    seeds = tuple(dict.fromkeys([*viewed, *bought, *list(favourites)[:SEED_PRODUCTS]]))
    return Interests(key, seeds, tuple(viewed), categories, _pet_of(request, visitor), just_bought)


def _pet_of(request, visitor) -> str | None:
    """The declared pet, else the member profile's (as the attribute context has it)."""
    resolution = getattr(request, "_personalization_resolution", None)
    pet = None
    if resolution is not None:
        pet = (resolution.attributes.get("traits") or {}).get("pet")
    if not pet:
        pet = _dict(visitor.traits).get("pet")
    if not pet and visitor.user_id:
        profile = getattr(getattr(visitor, "user", None), "profile", None)
        pet = getattr(profile, "pet_type", None)
    return pet if pet in PETS else None


def candidates_query(
    interests: Interests,
    *,
    seed: str,
    per_pool: int,
    exclude: set[str],
    category: str = "",
    pet: str = "",
):
    """The one query: active, in-stock candidates in their pools, each pool cut to `per_pool`
    (best pair score, then seeded random order), with their images."""
    pet = pet or interests.pet or ""
    products = Product.objects.filter(active=True, stock__gt=0)
    if exclude:
        products = products.exclude(sku__in=sorted(exclude))
    if category:
        products = products.filter(category=category)
    if pet in PETS:
        products = products.filter(pet_type__in=[pet, ProductPet.ANY])
    elif pet == ProductPet.ANY:
        products = products.filter(pet_type=ProductPet.ANY)
    if interests.seeds:
        paired = (
            ProductPair.objects.filter(other=OuterRef("pk"), product__sku__in=interests.seeds)
            .values("other")
            .annotate(total=Sum("score"))
            .values("total")[:1]
        )
        pair_score = Coalesce(Subquery(paired, output_field=FloatField()), Value(0.0))
    else:
        pair_score = Value(0.0, output_field=FloatField())
    viewed_category = (
        Exists(Product.objects.filter(sku__in=interests.viewed, category=OuterRef("category")))
        if interests.viewed
        else Value(False)
    )
    known = Q(category__in=sorted(interests.categories)) if interests.categories else Q(pk=None)
    if interests.pet:
        known |= Q(pet_type=interests.pet)
    products = products.annotate(
        pair_score=pair_score,
        viewed_category=viewed_category,
        jitter=MD5(Concat(Value(seed), F("sku"))),
    ).annotate(
        pool=Case(
            When(pair_score__gt=0, then=Value(PAIRED)),
            When(known | Q(viewed_category=True), then=Value(KNOWN)),
            default=Value(OTHER),
            output_field=IntegerField(),
        )
    )
    products = products.annotate(
        place=Window(
            RowNumber(),
            partition_by=[F("pool")],
            order_by=[F("pair_score").desc(), F("jitter").asc(), F("sku").asc()],
        )
    )
    return products.filter(place__lte=per_pool).select_related("image")


_CANDIDATES_SQL = """
WITH seeds AS (
    SELECT id FROM {product} WHERE sku = ANY(%(seeds)s::text[])
), paired AS MATERIALIZED (
    SELECT other_id, sum(score) AS score FROM {pair}
    WHERE product_id IN (SELECT id FROM seeds) GROUP BY other_id
), viewed AS (
    SELECT DISTINCT category FROM {product} WHERE sku = ANY(%(viewed)s::text[])
), candidates AS (
    SELECT p.id, p.sku, p.category, p.pet_type, coalesce(paired.score, 0)::float8 AS pair_score,
        p.category IN (SELECT category FROM viewed) AS viewed_category,
        hashtextextended(p.sku, %(seed_number)s) AS jitter
    FROM {product} p LEFT JOIN paired ON paired.other_id = p.id
    WHERE p.active AND p.stock > 0 AND NOT (p.sku = ANY(%(exclude)s::text[]))
        AND (%(category)s = '' OR p.category = %(category)s)
        AND (cardinality(%(pets)s::text[]) = 0 OR p.pet_type = ANY(%(pets)s::text[]))
), pooled AS (
    SELECT *, CASE WHEN pair_score > 0 THEN {paired_pool}
        WHEN category = ANY(%(known)s::text[]) OR viewed_category OR pet_type = %(pet)s
        THEN {known_pool} ELSE {other_pool} END AS pool
    FROM candidates
), ranked AS (  -- only the keys are sorted; the winners' rows are read after
    SELECT id, pool, pair_score, viewed_category, jitter, row_number() OVER (
        PARTITION BY pool ORDER BY pair_score DESC, jitter, sku) AS place
    FROM pooled
)
SELECT {product_columns}, r.pool, r.pair_score, r.viewed_category, r.jitter, {image_columns}
FROM ranked r JOIN {product} p ON p.id = r.id LEFT JOIN {image} i ON i.id = p.image_id
WHERE r.place <= %(per_pool)s
"""
_sql_text: str | None = None


def _candidates_sql() -> str:
    """The candidate query's text (built once per process: no ORM compilation per request)."""
    global _sql_text
    if _sql_text is None:
        from django.db import connection
        from wagtail.images import get_image_model

        quote = connection.ops.quote_name
        image_model = get_image_model()
        _sql_text = _CANDIDATES_SQL.format(
            product=quote(Product._meta.db_table),
            pair=quote(ProductPair._meta.db_table),
            image=quote(image_model._meta.db_table),
            product_columns=", ".join(
                f"p.{quote(f.column)}" for f in Product._meta.concrete_fields
            ),
            image_columns=", ".join(
                f"i.{quote(f.column)}" for f in image_model._meta.concrete_fields
            ),
            paired_pool=PAIRED,
            known_pool=KNOWN,
            other_pool=OTHER,
        )
    return _sql_text


def seed_number(seed: str) -> int:
    """The seed as a signed 64-bit number, for PostgreSQL's seeded hash of each SKU (a fast
    random order: md5 over a large catalogue costs more than the rest of the query)."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big", signed=True)


def _pets_for(pet: str) -> list[str]:
    if pet in PETS:
        return [pet, ProductPet.ANY]
    return [ProductPet.ANY] if pet == ProductPet.ANY else []


def candidates_fetch(
    interests: Interests,
    *,
    seed: str,
    per_pool: int,
    exclude: set[str],
    category: str = "",
    pet: str = "",
) -> list[Product]:
    """The candidates, each Product with `pool`, `pair_score`, `viewed_category` and `jitter`
    (and its image loaded): one query. PostgreSQL runs a prepared text (the ORM's compilation
    of the same query costs more than the database's work); other databases the ORM query."""
    from django.db import connection
    from wagtail.images import get_image_model

    if connection.vendor != "postgresql":
        return list(
            candidates_query(
                interests, seed=seed, per_pool=per_pool, exclude=exclude, category=category,
                pet=pet,
            )
        )  # fmt: skip
    params = {
        "seeds": list(interests.seeds),
        "viewed": list(interests.viewed),
        "seed_number": seed_number(seed),
        "exclude": sorted(exclude),
        "category": category or "",
        "pets": _pets_for(pet or interests.pet or ""),
        "known": sorted(interests.categories),
        "pet": interests.pet or "",
        "per_pool": per_pool,
    }
    product_fields = [f.attname for f in Product._meta.concrete_fields]
    image_model = get_image_model()
    image_fields = [f.attname for f in image_model._meta.concrete_fields]
    db = connection.alias
    products = []
    with connection.cursor() as cursor:
        cursor.execute(_candidates_sql(), params)
        rows = cursor.fetchall()
    width = len(product_fields)
    for row in rows:
        product = Product.from_db(db, product_fields, row[:width])
        product.pool, product.pair_score, product.viewed_category, product.jitter = row[
            width : width + 4
        ]
        image_values = row[width + 4 :]
        image = (
            image_model.from_db(db, image_fields, image_values)
            if image_values[0] is not None
            else None
        )
        product._state.fields_cache["image"] = image
        products.append(product)
    products.sort(key=lambda p: p.sku)
    return products


def recommendations_for(
    request,
    *,
    limit: int,
    exploration: float = DEFAULT_EXPLORATION,
    block_id: str,
    exclude_skus=(),
    category: str = "",
    pet: str = "",
    today: datetime.date | None = None,
) -> list[Recommendation]:
    """Up to `limit` products picked for the request's visitor, each with its arm; at most one
    SQL query (none when this request asked already). `exploration`: the share of slots (0–1)
    filled from categories outside the visitor's known interests, in an order seeded by
    (visitor, day, block) so it stays the same all day. `category` / `pet` narrow the
    candidates (a block's filters); `exclude_skus`: products not to show (the product page's
    own product)."""
    limit = max(int(limit), 0)
    exploration = min(max(float(exploration), 0.0), 1.0)
    today = today or timezone.localdate()
    key = (block_id, limit, exploration, tuple(sorted(exclude_skus)), category, pet, today)
    memo = request.__dict__.setdefault("_recommendations", {}) if request is not None else {}
    if key in memo:
        return memo[key]
    if limit == 0:
        return []
    interests = interests_of(request, today=today)
    seed = seed_of(interests.visitor_key, today.isoformat(), block_id)
    exclude = set(exclude_skus) | set(interests.just_bought)
    rows = candidates_fetch(
        interests,
        seed=seed,
        per_pool=limit * POOL_FACTOR,
        exclude=exclude,
        category=category,
        pet=pet,
    )
    by_sku = {product.sku: product for product in rows}
    candidates = [
        Candidate(
            sku=product.sku,
            category=product.category,
            pool=product.pool,
            pair_score=float(product.pair_score or 0),
            affinity=_affinity(product, interests),
            jitter=product.jitter,
        )
        for product in rows
    ]
    ranked = rank(candidates, limit=limit, exploration=exploration, seed=seed)
    result = [
        Recommendation(by_sku[item.sku], item.arm, block_id, position)
        for position, item in enumerate(ranked, start=1)
    ]
    memo[key] = result
    if result and request is not None and not getattr(request, "is_preview", False):
        recommendations_shown.send(sender=Recommendation, request=request, items=result)
    return result


def _affinity(product, interests: Interests) -> float:
    if product.pool == OTHER:
        return 0.0
    affinity = interests.categories.get(product.category, 0.0)
    if product.viewed_category:
        affinity = max(affinity, AFFINITY["viewed"])
    if interests.pet and product.pet_type == interests.pet:
        affinity += AFFINITY["pet"]
    return affinity


__all__ = ["EXPLOIT", "Recommendation", "recommendations_for"]
