"""The demo shop's history, so favourites, catalogue journeys and recommendations have something to
show from the first page view: shoppers who browsed and bought together (what the co-occurrence
job learns "viewed together" and "bought together" from), favourites for the demo members and a
purchase history for Kenji.

Everything goes through the product's own paths — events through the event pipeline (stored
once: each has a fixed idempotency key), favourites through `favourite_add` (rows and rollups
in step), pairs through the co-occurrence job — so the demo shows what real traffic would
produce. Safe to run again: nothing is stored twice.
"""

from __future__ import annotations

import datetime
import random
import uuid

from django.contrib.auth import get_user_model
from django.utils import timezone

from personalization.commerce.cooccurrence import product_pairs_rebuild
from personalization.commerce.favourites import favourite_add
from personalization.commerce.models import Favourite, Product
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_ingest
from personalization.models import Visitor

NAMESPACE = uuid.UUID("6f1c2a4e-8d7b-4c1e-9a55-2b7d0c9e1f30")
SHOPPERS = 60
# What browsing shoppers look at together: a dog owner's walk, a cat owner's corner, …
BASKETS = [
    ["DOG-FOOD-001", "DOG-TRT-001", "DOG-CARE-003", "DOG-TRT-002", "DOG-BED-002"],
    ["DOG-WALK-001", "DOG-WALK-003", "DOG-WALK-004", "DOG-WALK-002", "DOG-TRT-003"],
    ["DOG-FOOD-003", "DOG-TOY-003", "DOG-TOY-001", "DOG-CARE-002", "DOG-BED-001"],
    ["CAT-FOOD-001", "CAT-TRT-001", "CAT-LIT-001", "CAT-TOY-002", "CAT-CARE-001"],
    ["CAT-FOOD-004", "CAT-CARE-003", "CAT-BED-001", "CAT-TRT-002", "CAT-CARE-002"],
    ["OTH-FOOD-001", "OTH-TOY-001", "OTH-BED-001", "ANY-CARE-001", "OTH-CARE-001"],
]
FAVOURITES = {
    # Hanako (dog, Tokyo): one almost gone, one sold out, one to watch for a price drop.
    "hanako@example.com": ["DOG-FOOD-003", "DOG-TOY-002", "DOG-WALK-001"],
    "taro@example.com": ["CAT-FOOD-004", "CAT-TOY-001"],
}
KENJI_ORDERS = [  # (days ago, SKUs)
    (12, ["DOG-FOOD-001", "DOG-TRT-001"]),
    (4, ["DOG-BED-002", "DOG-CARE-003"]),
]


def ensure_shopping_history(home=None) -> int:
    """The demo's shoppers, favourites and Kenji's orders, then the product pairs; returns how
    many events were newly stored."""
    products = Product.objects.in_bulk(
        {sku for basket in BASKETS for sku in basket}
        | {sku for skus in FAVOURITES.values() for sku in skus}
        | {sku for _, skus in KENJI_ORDERS for sku in skus},
        field_name="sku",
    )
    if not products:
        return 0
    now = timezone.now()
    payloads = _shoppers(products, now) + _kenji(products, now)
    stored = events_ingest(payloads=payloads)
    _favourites(products)
    product_pairs_rebuild(now=now)
    return stored


def _event(visitor_uuid, kind: str, key: str, when, *, user_id=None, **properties) -> dict:
    return event_payload(
        visitor_uuid=visitor_uuid,
        type=kind,
        user_id=user_id,
        properties=properties,
        occurred_at=when,
        idempotency_key=f"demo-shop:{key}",
    )


def _shoppers(products: dict[str, Product], now: datetime.datetime) -> list[dict]:
    """Anonymous shoppers, each browsing most of one basket over a few days and buying two or
    three of its products (a fixed seed: the same history on every run)."""
    rng = random.Random(20261201)
    payloads = []
    for number in range(SHOPPERS):
        shopper = uuid.uuid5(NAMESPACE, f"shopper-{number}")
        basket = [sku for sku in BASKETS[number % len(BASKETS)] if sku in products]
        viewed = rng.sample(basket, k=min(len(basket), rng.randint(3, 5)))
        day = now - datetime.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 12))
        for index, sku in enumerate(viewed):
            payloads.append(
                _event(
                    shopper,
                    EventType.PRODUCT_VIEW,
                    f"{number}:view:{sku}",
                    day + datetime.timedelta(minutes=3 * index),
                    sku=sku,
                    category=products[sku].category,
                )
            )
        bought = viewed[: rng.randint(2, 3)]
        payloads.append(
            _event(
                shopper,
                EventType.PURCHASE,
                f"{number}:purchase",
                day + datetime.timedelta(minutes=30),
                amount=sum(products[sku].price for sku in bought),
                skus=bought,
                categories=sorted({products[sku].category for sku in bought}),
            )
        )
    return payloads


def _member_visitor(email: str) -> Visitor | None:
    user = get_user_model().objects.filter(username=email).first()
    if user is None:
        return None
    visitor = Visitor.objects.filter(user=user).first()
    return visitor or Visitor.objects.create(user=user)


def _kenji(products: dict[str, Product], now: datetime.datetime) -> list[dict]:
    """Kenji (dog, platinum) ordered twice: food and chews, then a senior mat and dental care."""
    visitor = _member_visitor("kenji@example.com")
    if visitor is None:
        return []
    payloads = []
    for days, skus in KENJI_ORDERS:
        bought = [sku for sku in skus if sku in products]
        when = now - datetime.timedelta(days=days)
        for sku in bought:
            payloads.append(
                _event(
                    visitor.uuid,
                    EventType.PRODUCT_VIEW,
                    f"kenji:{days}:view:{sku}",
                    when - datetime.timedelta(minutes=10),
                    user_id=visitor.user_id,
                    sku=sku,
                    category=products[sku].category,
                )
            )
        payloads.append(
            _event(
                visitor.uuid,
                EventType.PURCHASE,
                f"kenji:{days}:purchase",
                when,
                user_id=visitor.user_id,
                amount=sum(products[sku].price for sku in bought),
                skus=bought,
                categories=sorted({products[sku].category for sku in bought}),
            )
        )
    return payloads


def _favourites(products: dict[str, Product]) -> None:
    for email, skus in FAVOURITES.items():
        visitor = _member_visitor(email)
        if visitor is None:
            continue
        held = set(Favourite.objects.filter(visitor=visitor).values_list("product__sku", flat=True))
        for sku in skus:
            if sku in products and sku not in held:
                favourite_add(visitor, products[sku])
