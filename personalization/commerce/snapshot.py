"""Each process's snapshot of the products recommendations pick from.

The active products in stock — the fields a recommended product shows (`Product`'s columns and
its image's) — held in process memory as tuples, grouped per (category, pet), under the
catalogue's version token (`commerce.version.catalogue_version()`, read with the request's other
version tokens: no extra round trip). When the token changes (any committed catalogue change)
the next request that asks rebuilds the snapshot with one query, so only the first request after
a change pays for it (tens of milliseconds at 10,000 products, see `docs/benchmarks.md`); every
other request picks its products here and asks the database only for what is its visitor's own
(the pairs of the visitor's products, `recommend`).

A product built from the snapshot has every field but `updated_at` (deferred).

A seeded order without reading the whole catalogue: each product has a fixed 64-bit number
(a hash of its SKU) whose low bits put it in one of `BUCKETS` buckets. A seed (visitor, day,
block) orders the buckets by a seeded affine permutation — which bucket comes r-th is computed
directly — and the products inside a bucket by a seeded hash. Taking the first n products of a
large pool thus reads only its first few buckets; a small pool is ordered whole. Either way each
product's place depends on the seed and its own SKU only: a product selling out or arriving
leaves every other product where it was.

Memory: see `docs/benchmarks.md` (about 0.6 KB per product in stock, measured by the bench).
Derived per-token data (the cards' HTML, `cms.recommendation_blocks`) lives in `derived`, dropped
with the snapshot.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field

from config import version_tokens
from personalization.commerce.models import Product
from personalization.commerce.version import catalogue_version

BUCKETS = 1024  # a power of two
MASK64 = (1 << 64) - 1
MAX_DERIVED = 20_000  # entries of derived data kept per snapshot (then started afresh)


def fixed_number(sku: str) -> int:
    """A product's fixed 64-bit number (its bucket in the low bits)."""
    return int.from_bytes(hashlib.blake2b(sku.encode(), digest_size=8).digest(), "big")


@dataclass
class Group:
    """The products of one (category, pet): members (fixed number, sku, id) and the same by
    bucket."""

    members: list[tuple[int, str, int]] = field(default_factory=list)
    buckets: dict[int, list[tuple[int, str, int]]] = field(default_factory=dict)


@dataclass
class Snapshot:
    token: str
    product_fields: list[str]  # attnames, in the order of each row
    image_fields: list[str]
    rows: dict[int, tuple]  # product id → values of product_fields
    images: dict[int, tuple]  # image id → values of image_fields
    ids: dict[str, int]  # sku → product id
    fixed: dict[int, int]  # product id → its fixed number
    groups: dict[tuple[str, str], Group]
    derived: dict = field(default_factory=dict)

    def __post_init__(self):
        self.sku_at = self.product_fields.index("sku")
        self.category_at = self.product_fields.index("category")
        self.pet_at = self.product_fields.index("pet_type")
        self.image_at = self.product_fields.index("image_id")

    def product(self, product_id: int) -> Product:
        """A Product of its own (with its image loaded) for one request."""
        from django.db import connection
        from wagtail.images import get_image_model

        row = self.rows[product_id]
        product = Product.from_db(connection.alias, self.product_fields, row)
        image_id = row[self.image_at]
        image = None
        if image_id is not None and image_id in self.images:
            image = get_image_model().from_db(
                connection.alias, self.image_fields, self.images[image_id]
            )
        product._state.fields_cache["image"] = image
        return product

    def derived_get(self, key):
        return self.derived.get(key)

    def derived_set(self, key, value) -> None:
        if len(self.derived) >= MAX_DERIVED:
            self.derived.clear()
        self.derived[key] = value


class SeededOrder:
    """The order of one seed: `jitter(fixed)` is a product's place (smaller first); buckets are
    visited in the same order by `bucket_at(0), bucket_at(1), …`."""

    def __init__(self, seed_number: int):
        number = seed_number & MASK64
        self.seed = number
        self.a = ((number >> 10) & (BUCKETS - 1)) | 1  # odd: a permutation modulo BUCKETS
        self.c = number & (BUCKETS - 1)
        self.a_inverse = pow(self.a, -1, BUCKETS)

    def bucket_at(self, rank: int) -> int:
        return (self.a_inverse * (rank - self.c)) & (BUCKETS - 1)

    def jitter(self, fixed: int) -> int:
        # hash() of a tuple of ints is the same in every process (PYTHONHASHSEED randomizes
        # only str and bytes), so every server orders a visitor's products alike.
        rank = (self.a * (fixed & (BUCKETS - 1)) + self.c) & (BUCKETS - 1)
        return (rank << 64) | (hash((self.seed, fixed)) & MASK64)


def first_of(groups: list[Group], need: int, skip: set[int], order: SeededOrder) -> list:
    """The first `need` products of these groups in the seeded order, leaving out `skip` (ids):
    [(jitter, sku, id)], sorted."""
    if need <= 0 or not groups:
        return []
    total = sum(len(group.members) for group in groups)
    if total == 0:
        return []
    # Reading a bucket costs a lookup per group; ordering the pool whole, a hash per product.
    buckets_to_read = min(BUCKETS, (need + len(skip)) * BUCKETS // total + 1)
    picked: list[tuple[int, str, int]] = []
    if total <= buckets_to_read * len(groups) // 2 + 4 * need:
        jitter = order.jitter
        for group in groups:
            picked.extend(
                (jitter(fixed), sku, pid) for fixed, sku, pid in group.members if pid not in skip
            )
        picked.sort()
        return picked[:need]
    jitter = order.jitter
    for rank in range(BUCKETS):
        bucket = order.bucket_at(rank)
        for group in groups:
            members = group.buckets.get(bucket)
            if members:
                picked.extend(
                    (jitter(fixed), sku, pid) for fixed, sku, pid in members if pid not in skip
                )
        if len(picked) >= need:
            break
    picked.sort()
    return picked[:need]


# THE PROCESS'S SNAPSHOT
# ------------------------------------------------------------------------------


def catalogue_snapshot() -> Snapshot:
    """The snapshot of the current catalogue (rebuilt, one query, when its token changed)."""
    return _snapshot.get()


def snapshot_reset() -> None:
    """Forget this process's snapshot (tests whose database is rolled back under the token)."""
    _snapshot.reset()


def snapshot_build(token: str) -> Snapshot:
    """The active products in stock and their images: one query."""
    from django.db import connection
    from wagtail.images import get_image_model

    image_model = get_image_model()
    # Every column a product shows but its last change's time (parsing a timestamp per row
    # cost half the rebuild; nothing recommended reads it, it is loaded on demand).
    product_columns = [f for f in Product._meta.concrete_fields if f.attname != "updated_at"]
    image_columns = list(image_model._meta.concrete_fields)
    quote = connection.ops.quote_name
    width = len(product_columns)
    sql = "SELECT {}, {} FROM {} p LEFT JOIN {} i ON i.{} = p.{} WHERE p.{} AND p.{} > 0".format(
        ", ".join(f"p.{quote(f.column)}" for f in product_columns),
        ", ".join(f"i.{quote(f.column)}" for f in image_columns),
        quote(Product._meta.db_table),
        quote(image_model._meta.db_table),
        quote(image_model._meta.pk.column),
        quote(Product._meta.get_field("image").column),
        quote(Product._meta.get_field("active").column),
        quote(Product._meta.get_field("stock").column),
    )
    with connection.cursor() as cursor:  # standard SQL: any database
        cursor.execute(sql)
        result = cursor.fetchall()
    product_fields = [f.attname for f in product_columns]
    image_fields = [f.attname for f in image_columns]
    sku_at = product_fields.index("sku")
    category_at = product_fields.index("category")
    pet_at = product_fields.index("pet_type")
    id_at = product_fields.index(Product._meta.pk.attname)
    image_pk_at = image_fields.index(image_model._meta.pk.attname)
    rows: dict[int, tuple] = {}
    images: dict[int, tuple] = {}
    ids: dict[str, int] = {}
    fixed: dict[int, int] = {}
    groups: dict[tuple[str, str], Group] = {}
    intern = sys.intern
    for values in result:
        row = list(values[:width])
        row[category_at] = intern(row[category_at] or "")
        row[pet_at] = intern(row[pet_at] or "")
        row = tuple(row)
        image = values[width:]
        if image[image_pk_at] is not None and image[image_pk_at] not in images:
            images[image[image_pk_at]] = tuple(image)
        pid, sku = row[id_at], row[sku_at]
        rows[pid] = row
        ids[sku] = pid
        member = (fixed_number(sku), sku, pid)
        fixed[pid] = member[0]
        group = groups.setdefault((row[category_at], row[pet_at]), Group())
        group.members.append(member)
        group.buckets.setdefault(member[0] & (BUCKETS - 1), []).append(member)
    return Snapshot(token, product_fields, image_fields, rows, images, ids, fixed, groups)


_snapshot = version_tokens.PerProcess(catalogue_version, snapshot_build)
