"""The demo shop's history (`cms.demo.shopping`, a step of `load_demo` that the tests' own demo
leaves out): shoppers who browsed and bought together teach the co-occurrence job its pairs, the
demo members have favourites (rows and rollups in step) and Kenji has orders; run again, it
stores nothing twice."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from cms.demo.shopping import BASKETS, FAVOURITES, ensure_shopping_history
from personalization.commerce.favourites import favourite_skus
from personalization.commerce.models import Favourite, Product, ProductPair
from personalization.commerce.recommend import recommendations_for
from personalization.events.models import Event
from personalization.models import Visitor

pytestmark = pytest.mark.django_db


def member_visitor(email: str) -> Visitor:
    return Visitor.objects.get(user=get_user_model().objects.get(username=email))


def test_the_demo_catalogue_has_forty_products_or_more_with_pictures():
    products = Product.objects.filter(active=True)
    assert products.count() >= 40
    assert not products.filter(image__isnull=True).exists()


def test_shoppers_teach_the_pairs_members_get_favourites_and_kenji_orders():
    stored = ensure_shopping_history()
    assert stored > 200

    first, second = BASKETS[0][0], BASKETS[0][1]
    pair = ProductPair.objects.get(product__sku=first, other__sku=second)
    assert pair.viewed_together > 0 and pair.score > 0
    assert not ProductPair.objects.filter(product__sku=first, other__sku=BASKETS[3][0]).exists()

    hanako = member_visitor("hanako@example.com")
    assert favourite_skus(hanako) == set(FAVOURITES["hanako@example.com"])
    assert Favourite.objects.filter(visitor=hanako).count() == 3

    kenji = member_visitor("kenji@example.com")
    assert kenji.purchase_count == 2
    assert set(kenji.products_bought) == {
        "DOG-FOOD-001",
        "DOG-TRT-001",
        "DOG-BED-002",
        "DOG-CARE-003",
    }

    request = RequestFactory().get("/")
    request.visitor, request.visitor_uuid = kenji, kenji.uuid
    picks = recommendations_for(request, limit=4, exploration=0, block_id="demo")
    assert len(picks) == 4
    skus = [item.product.sku for item in picks]
    assert not set(skus) & {"DOG-BED-002", "DOG-CARE-003"}  # just bought
    assert set(skus) & set(BASKETS[0])  # what others bought with his first order

    events = Event.objects.count()
    assert ensure_shopping_history() == 0  # again: nothing stored twice
    assert Event.objects.count() == events
    assert Favourite.objects.filter(visitor=hanako).count() == 3
