"""The recommender: "picked for you" products for the request's visitor.

`recommendations_for(request, limit=…, exploration=…, block_id=…)` is the public function the
recommendations block, the page API and the product pages call. It reads what the visitor did
from the rollups already loaded with the visitor (`products_viewed`, `products_bought`,
`categories_bought`, `favourites_rollup`, the declared or member pet), picks the candidates
— active products in stock, for the visitor's pet, not just bought nor excluded — from this
process's snapshot of the catalogue (`snapshot`, kept under the catalogue's version token) in
three pools (paired with the visitor's products by the co-occurrence table, of a known category
or the visitor's pet, of any other category), each pool cut to a few times the slots in a
seeded random order, and asks the database only for what is the visitor's own: one small
indexed query for the pair scores of their recent products and their viewed products'
categories (none for a visitor without products). Ranking and the explore/exploit split are
pure (`ranking`). The result is memoized on the request, so the site's block, its impressions
and the API agree.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
from dataclasses import dataclass

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
from personalization.commerce.snapshot import (
    SeededOrder,
    Snapshot,
    catalogue_snapshot,
    first_of,
)

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


_PERSONAL_SQL = """
SELECT pair.other_id, sum(pair.score)::float8, NULL
FROM {pair} pair
WHERE pair.product_id IN (SELECT id FROM {product} WHERE sku = ANY(%(seeds)s::text[]))
GROUP BY pair.other_id
UNION ALL
SELECT DISTINCT NULL::bigint, NULL::float8, category FROM {product}
WHERE sku = ANY(%(viewed)s::text[])
"""


def _personal_sql_portable(interests: Interests, pair: str, product: str) -> tuple[str, list]:
    """`_PERSONAL_SQL` in standard SQL (one placeholder per SKU), for the embedded SQLite."""
    parts, params = [], []
    if interests.seeds:
        marks = ", ".join(["%s"] * len(interests.seeds))
        parts.append(
            f"SELECT pair.other_id, SUM(pair.score), NULL FROM {pair} pair "  # noqa: S608
            f"WHERE pair.product_id IN (SELECT id FROM {product} WHERE sku IN ({marks})) "
            "GROUP BY pair.other_id"
        )
        params += list(interests.seeds)
    if interests.viewed:
        marks = ", ".join(["%s"] * len(interests.viewed))
        parts.append(
            f"SELECT DISTINCT NULL, NULL, category FROM {product} "  # noqa: S608
            f"WHERE sku IN ({marks})"
        )
        params += list(interests.viewed)
    return " UNION ALL ".join(parts), params


@dataclass(frozen=True)
class Personal:
    """What only the database knows of the visitor: pair scores by product id (summed over the
    visitor's products) and the categories of the products they viewed."""

    pair_scores: dict
    viewed_categories: frozenset


def personal_fetch(interests: Interests, request=None) -> Personal:
    """The pairs of the visitor's products and their viewed products' categories: one indexed
    query, none for a visitor without products, and one per request however many blocks ask."""
    if not interests.seeds and not interests.viewed:
        return Personal({}, frozenset())
    key = (interests.seeds, interests.viewed)
    memo = request.__dict__.setdefault("_recommendations_personal", {}) if request else {}
    if key in memo:
        return memo[key]
    from django.db import connection

    scores: dict[int, float] = {}
    categories: set[str] = set()
    pair = connection.ops.quote_name(ProductPair._meta.db_table)
    product = connection.ops.quote_name(Product._meta.db_table)
    if connection.vendor == "postgresql":
        sql = _PERSONAL_SQL.format(pair=pair, product=product)
        params: dict | list = {"seeds": list(interests.seeds), "viewed": list(interests.viewed)}
    else:
        sql, params = _personal_sql_portable(interests, pair, product)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for other, score, category in cursor.fetchall():
            if other is None:
                categories.add(category)
            else:
                scores[other] = float(score)
    result = Personal(scores, frozenset(categories))
    memo[key] = result
    return result


def seed_number(seed: str) -> int:
    """The seed as a signed 64-bit number (the seeded order of `snapshot`)."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big", signed=True)


def _pets_for(pet: str) -> list[str]:
    if pet in PETS:
        return [pet, ProductPet.ANY]
    return [ProductPet.ANY] if pet == ProductPet.ANY else []


def candidates_pick(
    snapshot: Snapshot,
    interests: Interests,
    personal: Personal,
    *,
    seed: str,
    per_pool: int,
    exclude: set[str],
    category: str = "",
    pet: str = "",
) -> list[Candidate]:
    """The candidates in their three pools, each cut to `per_pool`: the paired products (best
    pair score first), then products of known categories or the visitor's pet, then the others,
    both in the seeded order. From the snapshot: no query."""
    pets = _pets_for(pet or interests.pet or "")
    order = SeededOrder(seed_number(seed))
    known_categories = set(interests.categories) | personal.viewed_categories
    skip = {snapshot.ids[sku] for sku in exclude if sku in snapshot.ids}
    category_at, pet_at, sku_at = snapshot.category_at, snapshot.pet_at, snapshot.sku_at

    def fits(row) -> bool:
        return (not category or row[category_at] == category) and (not pets or row[pet_at] in pets)

    def is_known(row_category: str, row_pet: str) -> bool:
        return row_category in known_categories or (
            bool(interests.pet) and row_pet == interests.pet
        )

    rows = snapshot.rows
    scored = [
        (-score, pid)
        for pid, score in personal.pair_scores.items()
        if score and score > 0 and pid not in skip and pid in rows and fits(rows[pid])
    ]
    skip |= {pid for _score, pid in scored}
    if len(scored) > per_pool:  # only the best scores (and their ties) need their order
        cutoff = heapq.nsmallest(per_pool, scored)[-1][0]
        scored = [item for item in scored if item[0] <= cutoff]
    paired = sorted(
        (negative, order.jitter(snapshot.fixed[pid]), rows[pid][sku_at], pid)
        for negative, pid in scored
    )
    known_groups, other_groups = [], []
    for (group_category, group_pet), group in snapshot.groups.items():
        if category and group_category != category:
            continue
        if pets and group_pet not in pets:
            continue
        if is_known(group_category, group_pet):
            known_groups.append(group)
        else:
            other_groups.append(group)
    candidates = []

    def add(pid: int, pool: int, pair_score: float, jitter: int) -> None:
        row = snapshot.rows[pid]
        candidates.append(
            Candidate(
                sku=row[sku_at],
                category=row[category_at],
                pool=pool,
                pair_score=pair_score,
                affinity=_affinity(row[category_at], row[pet_at], pool, interests, personal),
                jitter=jitter,
            )
        )

    for negative, jitter, _sku, pid in paired[:per_pool]:
        add(pid, PAIRED, -negative, jitter)
    for jitter, _sku, pid in first_of(known_groups, per_pool, skip, order):
        add(pid, KNOWN, 0.0, jitter)
    for jitter, _sku, pid in first_of(other_groups, per_pool, skip, order):
        add(pid, OTHER, 0.0, jitter)
    return candidates


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
    SQL query (none when this request asked already, nor for a visitor without products) —
    plus the snapshot's one query on the first request after a catalogue change.
    `exploration`: the share of slots (0–1) filled from categories outside the visitor's known
    interests, in an order seeded by (visitor, day, block) so it stays the same all day.
    `category` / `pet` narrow the candidates (a block's filters); `exclude_skus`: products not
    to show (the product page's own product)."""
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
    snapshot = catalogue_snapshot()
    personal = personal_fetch(interests, request)
    candidates = candidates_pick(
        snapshot,
        interests,
        personal,
        seed=seed,
        per_pool=limit * POOL_FACTOR,
        exclude=exclude,
        category=category,
        pet=pet,
    )
    ranked = rank(candidates, limit=limit, exploration=exploration, seed=seed)
    result = [
        Recommendation(snapshot.product(snapshot.ids[item.sku]), item.arm, block_id, position)
        for position, item in enumerate(ranked, start=1)
    ]
    memo[key] = result
    if result and request is not None and not getattr(request, "is_preview", False):
        recommendations_shown.send(sender=Recommendation, request=request, items=result)
    return result


def _affinity(category: str, pet_type: str, pool: int, interests: Interests, personal) -> float:
    if pool == OTHER:
        return 0.0
    affinity = interests.categories.get(category, 0.0)
    if category in personal.viewed_categories:
        affinity = max(affinity, AFFINITY["viewed"])
    if interests.pet and pet_type == interests.pet:
        affinity += AFFINITY["pet"]
    return affinity


__all__ = ["EXPLOIT", "Recommendation", "recommendations_for"]
