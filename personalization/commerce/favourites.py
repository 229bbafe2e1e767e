"""Visitors' favourite products: the `Favourite` rows and their copy on the visitor,
`Visitor.favourites_rollup`, which segment attributes and product cards read without a query.

The rollup is a JSON object of SKU → the product as last known to the favourites:

    {"DOG-FOOD-2KG": {"category": "dog-food", "pet": "dog", "price_when_added": 1480,
                      "price": 1280, "stock": 2, "added_at": "2026-12-01T13:00:00+00:00"}}

It always holds exactly the visitor's rows (at most `MAX_FAVOURITES`): adding, removing and
merging rewrite it in the same transaction as the rows, under the visitor's row lock, and a
catalogue change refreshes price and stock for everyone who favourited the changed products
(`favourite_rollups_refresh`, a job per feed batch). `favourite_changed` tells the apps above
(the event pipeline records `favourite_added` / `favourite_removed`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from personalization.commerce.models import Favourite, Product, ProductChange
from personalization.commerce.signals import favourite_changed
from personalization.models import Visitor

MAX_FAVOURITES = 200  # per visitor: the rollup is read with the visitor on every request
REFRESH_CHUNK = 1000  # visitors rewritten per transaction by the catalogue refresh


class FavouritesFull(Exception):
    """The visitor already keeps MAX_FAVOURITES favourites."""


@dataclass(frozen=True)
class FavouriteResult:
    favourite: Favourite
    created: bool


# THE ROLLUP
# ------------------------------------------------------------------------------


def rollup_entry(product: Product, price_when_added: int, added_at) -> dict:
    """One product as the rollup keeps it."""
    return {
        "category": product.category,
        "pet": product.pet_type,
        "price_when_added": int(price_when_added),
        "price": int(product.price),
        "stock": int(product.stock),
        "active": bool(product.active),
        "added_at": added_at.isoformat() if added_at else None,
    }


def _rollups_of(visitor_ids: Iterable[int]) -> dict[int, dict]:
    """visitor id → its rollup, built from its Favourite rows (one query)."""
    rollups: dict[int, dict] = {visitor_id: {} for visitor_id in visitor_ids}
    rows = (
        Favourite.objects.filter(visitor_id__in=list(rollups))
        .select_related("product")
        .only(
            "visitor_id",
            "price_when_added",
            "created_at",
            "product__sku",
            "product__category",
            "product__pet_type",
            "product__price",
            "product__stock",
            "product__active",
        )  # fmt: skip
        .order_by("visitor_id", "created_at", "pk")
    )
    for row in rows:
        rollups[row.visitor_id][row.product.sku] = rollup_entry(
            row.product, row.price_when_added, row.created_at
        )
    return rollups


def favourites_rollup_rebuild(visitor: Visitor) -> dict:
    """Rewrite the visitor's rollup from its rows (call inside a transaction that holds the row
    lock, or where nothing else writes the visitor); returns it."""
    visitor.favourites_rollup = _rollups_of([visitor.pk])[visitor.pk]
    Visitor.objects.filter(pk=visitor.pk).update(favourites_rollup=visitor.favourites_rollup)
    return visitor.favourites_rollup


def favourite_skus(visitor) -> set[str]:
    """The SKUs the visitor keeps as favourites, from the rollup (no query)."""
    if visitor is None:
        return set()
    rollup = getattr(visitor, "favourites_rollup", None)
    return {str(sku) for sku in rollup} if isinstance(rollup, dict) else set()


# ADDING AND REMOVING
# ------------------------------------------------------------------------------


def _locked(visitor: Visitor) -> Visitor:
    """The visitor's row, locked for this transaction, copied into `visitor`'s rollup."""
    row = Visitor.objects.select_for_update().only("id", "favourites_rollup").get(pk=visitor.pk)
    rollup = row.favourites_rollup
    visitor.favourites_rollup = rollup if isinstance(rollup, dict) else {}
    return visitor


def favourite_add(visitor: Visitor, product: Product) -> FavouriteResult:
    """Keep `product` as one of the visitor's favourites (nothing changes when it already is):
    the row, the rollup entry and `favourite_changed` once committed. FavouritesFull when the
    visitor already keeps MAX_FAVOURITES."""
    with transaction.atomic():
        _locked(visitor)
        existing = Favourite.objects.filter(visitor=visitor, product=product).first()
        if existing is not None:
            if product.sku not in visitor.favourites_rollup:  # a rollup an older bug left behind
                favourites_rollup_rebuild(visitor)
            return FavouriteResult(existing, created=False)
        if Favourite.objects.filter(visitor=visitor).count() >= MAX_FAVOURITES:
            raise FavouritesFull(MAX_FAVOURITES)
        favourite = Favourite.objects.create(
            visitor=visitor, product=product, price_when_added=product.price
        )
        rollup = dict(visitor.favourites_rollup)
        rollup[product.sku] = rollup_entry(product, product.price, favourite.created_at)
        visitor.favourites_rollup = rollup
        Visitor.objects.filter(pk=visitor.pk).update(favourites_rollup=rollup)
        favourite_changed.send(sender=Favourite, visitor=visitor, product=product, added=True)
    return FavouriteResult(favourite, created=True)


def favourite_remove(visitor: Visitor, product: Product) -> bool:
    """Stop keeping `product` as a favourite; False when it was not one."""
    with transaction.atomic():
        _locked(visitor)
        deleted, _ = Favourite.objects.filter(visitor=visitor, product=product).delete()
        rollup = dict(visitor.favourites_rollup)
        had_entry = rollup.pop(product.sku, None) is not None
        if had_entry:
            visitor.favourites_rollup = rollup
            Visitor.objects.filter(pk=visitor.pk).update(favourites_rollup=rollup)
        if deleted:
            favourite_changed.send(sender=Favourite, visitor=visitor, product=product, added=False)
    return bool(deleted)


def visitor_for_favourites(
    *, visitor_uuid: uuid.UUID, user=None, for_server: bool = False
) -> Visitor:
    """The stored visitor a favourite is filed under, created as the event job would create it:
    the member's own visitor; else the named one (followed when merged), which becomes the
    member's when it is anonymous and the member has none; else a new row with that id. A
    member's visitor named by someone else gets a new visitor instead (as `load_visitor`
    decides for pages), unless `for_server`: the shop's server acts for the visitor it names."""
    member = user if user is not None and getattr(user, "is_authenticated", False) else None
    for _attempt in range(3):  # a concurrent first write may create the same row
        try:
            with transaction.atomic():
                return _visitor_for_favourites(visitor_uuid, member, for_server)
        except IntegrityError:
            continue
    return _visitor_for_favourites(visitor_uuid, member, for_server)


def _visitor_for_favourites(visitor_uuid: uuid.UUID, member, for_server: bool) -> Visitor:
    if member is not None:
        own = Visitor.objects.filter(user=member).first()
        if own is not None:
            return own
    named = Visitor.objects.filter(uuid=visitor_uuid).select_related("merged_into").first()
    if named is not None and named.merged_into_id:
        named = named.merged_into
    if named is None:
        return Visitor.objects.create(uuid=visitor_uuid, user=member)
    if named.user_id is None:
        if member is not None:
            named.user = member
            named.save(update_fields=["user"])
        return named
    if for_server or (member is not None and named.user_id == member.pk):
        return named
    return Visitor.objects.create(user=member)  # another member's id: never theirs


# MERGING
# ------------------------------------------------------------------------------


def favourites_merge(*, source: Visitor, target: Visitor) -> None:
    """The anonymous visitor's favourites become the member's (inside the merge transaction):
    a product both kept stays once, with the member's row; past MAX_FAVOURITES the oldest go."""
    kept = Favourite.objects.filter(visitor=target).values_list("product_id", flat=True)
    Favourite.objects.filter(visitor=source).exclude(product_id__in=list(kept)).update(
        visitor=target
    )
    Favourite.objects.filter(visitor=source).delete()
    surplus = list(
        Favourite.objects.filter(visitor=target)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[MAX_FAVOURITES:]
    )
    if surplus:
        Favourite.objects.filter(pk__in=surplus).delete()
    favourites_rollup_rebuild(target)
    source.favourites_rollup = {}
    Visitor.objects.filter(pk=source.pk).update(favourites_rollup={})


# CATALOGUE CHANGES
# ------------------------------------------------------------------------------


def favourite_rollups_refresh(change_ids: list[int], product_ids: list[int] = ()) -> int:
    """Bring price, stock and the rest up to date in the rollups of every visitor who
    favourited a product these history rows changed, or one of `product_ids` (changed in other
    ways: deactivated, say); returns how many visitors were rewritten. Set-based: per chunk of
    REFRESH_CHUNK visitors, one lock, one read of their favourites, one write."""
    product_ids = set(product_ids) | set(
        ProductChange.objects.filter(pk__in=change_ids).values_list("product_id", flat=True)
    )
    if not product_ids:
        return 0
    visitor_ids = list(
        Favourite.objects.filter(product_id__in=product_ids)
        .order_by("visitor_id")
        .values_list("visitor_id", flat=True)
        .distinct()
    )
    return favourite_rollups_rebuild(visitor_ids)


def favourite_rollups_rebuild(visitor_ids: list[int]) -> int:
    """Rebuild these visitors' rollups from their rows (a job: after a product they favourited
    was deleted, its rows went with it); returns how many."""
    for start in range(0, len(visitor_ids), REFRESH_CHUNK):
        _refresh_chunk(visitor_ids[start : start + REFRESH_CHUNK])
    return len(visitor_ids)


@transaction.atomic
def _refresh_chunk(visitor_ids: list[int]) -> None:
    locked = list(
        Visitor.objects.select_for_update()
        .filter(pk__in=visitor_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rollups = _rollups_of(locked)
    Visitor.objects.bulk_update(
        [Visitor(pk=pk, favourites_rollup=rollup) for pk, rollup in rollups.items()],
        ["favourites_rollup"],
    )
