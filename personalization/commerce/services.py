"""The shop's feed: upsert products by SKU, all or nothing, writing a history row for each
product created or whose price or stock changed. The feed API and the admin's CSV import both
go through `products_upsert`; the CSV import's dry run counts with `products_compare`, which
sorts the items exactly as the upsert would."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from personalization.commerce.models import TRACKED, Product, ProductChange, changes_announce

# One feed call at a time (a PostgreSQL advisory lock for the transaction): two calls naming the
# same new SKU then never race to create it.
FEED_LOCK = 0x636F6D6D  # "comm"
# Items read and written per round trip: a CSV import of 100,000 rows is 100 chunks (each also
# sends its own `products_changed`, so the journeys evaluate batches of this size at most).
CHUNK = 1_000


@dataclass(frozen=True)
class UpsertCounts:
    created: int
    updated: int
    unchanged: int


# What a feed item may set (validated by the feed's serializer, which the CSV import shares).
FIELDS = ("sku", "name", "category", "pet_type", "price", "stock", "url", "active")


@dataclass
class _Plan:
    """What upserting one chunk does: rows to create (every field, defaults filled in), rows to
    update (id and every field) and which fields differ, the (id, price, stock) of updated rows
    that need a history row, the ids of those changed otherwise only, and how many items change
    nothing."""

    created: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    history: list[tuple[int, int, int]] = field(default_factory=list)
    others: list[int] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    unchanged: int = 0


def _chunks(items: Sequence[dict], size: int) -> Iterator[Sequence[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _plan(items: Sequence[dict]) -> _Plan:
    """Sort `items` (distinct SKUs) against the stored products (read as plain rows: a chunk of
    a 100,000-row import builds no model instance)."""
    stored = {row["sku"]: row for row in _stored([item["sku"] for item in items])}
    defaults = {name: Product._meta.get_field(name).get_default() for name in FIELDS}
    plan = _Plan()
    for item in items:
        row = stored.get(item["sku"])
        if row is None:
            plan.created.append({**defaults, **item})
            continue
        differing = {name for name, value in item.items() if row[name] != value}
        if not differing:
            plan.unchanged += 1
            continue
        row.update(item)
        plan.changed_fields |= differing
        plan.updated.append(row)
        if differing & set(TRACKED):
            plan.history.append((row["id"], row["price"], row["stock"]))
        else:
            plan.others.append(row["id"])
    return plan


def _stored(skus: list[str]) -> list[dict]:
    """The stored products of these SKUs as rows (id and FIELDS); on PostgreSQL with one array
    parameter rather than a thousand."""
    if connection.vendor != "postgresql":
        return list(Product.objects.filter(sku__in=skus).values("id", *FIELDS))
    quote = connection.ops.quote_name
    columns = ["id", *(Product._meta.get_field(name).column for name in FIELDS)]
    sql = (
        f"SELECT {', '.join(map(quote, columns))} FROM {quote(Product._meta.db_table)} "
        f"WHERE sku = ANY(%s::{_db_type('sku')}[])"  # noqa: S608
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [skus])
        return [dict(zip(("id", *FIELDS), row, strict=True)) for row in cursor.fetchall()]


def _db_type(name: str) -> str:
    return Product._meta.get_field(name).db_type(connection)


def _insert(rows: list[dict], now) -> list[tuple[int, int, int]]:
    """Create these products; their (id, price, stock). On PostgreSQL one INSERT … SELECT FROM
    unnest(column arrays) per chunk; elsewhere Django's bulk_create."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        products = Product.objects.bulk_create(Product(**row, updated_at=now) for row in rows)
        return [(product.pk, product.price, product.stock) for product in products]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(Product._meta.get_field(name).column) for name in FIELDS)
    arrays = ", ".join(f"%s::{_db_type(name)}[]" for name in FIELDS)
    sql = (
        f"INSERT INTO {quote(Product._meta.db_table)} ({columns}, {quote('updated_at')}) "
        f"SELECT *, %s FROM unnest({arrays}) RETURNING id, price, stock"  # noqa: S608
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *([row[name] for row in rows] for name in FIELDS)])
        return cursor.fetchall()


def _update(rows: list[dict], names: list[str], now) -> None:
    """Write these fields (and `updated_at`) of these products: on PostgreSQL one UPDATE … FROM
    unnest(column arrays) per chunk (Django's bulk_update builds a CASE per field and row)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        products = [Product(**row, updated_at=now) for row in rows]
        Product.objects.bulk_update(products, [*names, "updated_at"])
        return
    quote = connection.ops.quote_name
    columns = [quote(Product._meta.get_field(name).column) for name in names]
    arrays = ", ".join(f"%s::{_db_type(name)}[]" for name in names)
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    sql = (
        f"UPDATE {quote(Product._meta.db_table)} AS p SET {assignments}, updated_at = %s "
        f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(columns)}) "  # noqa: S608
        "WHERE p.id = v.id"
    )
    params = [now, [row["id"] for row in rows], *([row[name] for row in rows] for name in names)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _history(rows: list[tuple[int, int, int]], now) -> list[int]:
    """A ProductChange per (product id, price, stock); their ids."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        changes = ProductChange.objects.bulk_create(
            ProductChange(product_id=pk, price=price, stock=stock, changed_at=now)
            for pk, price, stock in rows
        )
        return [change.pk for change in changes]
    sql = (
        f"INSERT INTO {connection.ops.quote_name(ProductChange._meta.db_table)} "
        "(product_id, price, stock, changed_at) "
        "SELECT *, %s FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *(list(column) for column in zip(*rows, strict=True))])
        return [pk for (pk,) in cursor.fetchall()]


def products_compare(items: Sequence[dict], *, chunk_size: int = CHUNK) -> UpsertCounts:
    """What `products_upsert(items)` would do now, counted, writing nothing (a dry run)."""
    created = updated = unchanged = 0
    for chunk in _chunks(items, chunk_size):
        plan = _plan(chunk)
        created += len(plan.created)
        updated += len(plan.updated)
        unchanged += plan.unchanged
    return UpsertCounts(created=created, updated=updated, unchanged=unchanged)


def products_upsert(
    items: Sequence[dict],
    *,
    chunk_size: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> UpsertCounts:
    """Create or update each item (validated: a `sku` and any product fields; no SKU twice) by
    its SKU, in one transaction. A field an item leaves out keeps its value (or the default,
    when created). `progress(done)` is called after each chunk of `chunk_size` items, inside
    the transaction."""
    now = timezone.now()
    created = updated = unchanged = done = 0
    change_ids: list[int] = []
    product_ids: list[int] = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])
        for chunk in _chunks(items, chunk_size):
            plan = _plan(chunk)
            history = _insert(plan.created, now) + plan.history
            _update(plan.updated, sorted(plan.changed_fields), now)
            change_ids += _history(history, now)
            product_ids += plan.others
            created += len(plan.created)
            updated += len(plan.updated)
            unchanged += plan.unchanged
            done += len(chunk)
            if progress is not None:
                progress(done)
        # Once for the whole call, however many chunks: a member whose favourites fired
        # anywhere in it gets one message listing them all (the receivers split the work).
        changes_announce(change_ids, product_ids=product_ids)
    return UpsertCounts(created=created, updated=updated, unchanged=unchanged)
