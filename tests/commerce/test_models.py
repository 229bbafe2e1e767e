"""Price and stock history: a row when a product is created or its price or stock changes,
none when it is saved unchanged."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from personalization.commerce.models import Product, ProductChange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_catalogue")]


def history(product) -> list[tuple[int, int]]:
    return list(product.changes.order_by("changed_at", "pk").values_list("price", "stock"))


def test_creating_a_product_records_its_first_price_and_stock():
    product = Product.objects.create(sku="DOG-1", name="Dog food", price=1280, stock=5)
    assert history(product) == [(1280, 5)]


def test_a_new_price_or_stock_adds_a_row_and_nothing_else_does():
    product = Product.objects.create(sku="DOG-1", name="Dog food", price=1280, stock=5)
    product.name = "Dog food, 2 kg"
    product.category = "dog-food"
    product.save()
    assert history(product) == [(1280, 5)]

    product.stock = 2
    product.save()
    product.price = 980
    product.save()
    product.save()
    assert history(product) == [(1280, 5), (1280, 2), (980, 2)]


def test_a_product_loaded_again_and_saved_unchanged_adds_no_row():
    Product.objects.create(sku="DOG-1", name="Dog food", price=1280, stock=5)
    loaded = Product.objects.get(sku="DOG-1")
    loaded.save()
    loaded.stock = 5  # the same value
    loaded.save()
    assert ProductChange.objects.count() == 1


def test_sku_is_unique_and_price_and_stock_cannot_be_negative():
    Product.objects.create(sku="DOG-1", name="Dog food", price=1280, stock=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="DOG-1", name="Again", price=1, stock=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="DOG-2", name="Negative", price=-1, stock=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="DOG-3", name="Negative", price=1, stock=-1)


def test_a_product_refreshed_after_the_feed_changed_it_adds_no_row_when_saved():
    product = Product.objects.create(sku="DOG-1", name="Dog food", price=1280, stock=5)
    Product.objects.filter(pk=product.pk).update(stock=2)  # as another process would
    product.refresh_from_db()
    product.name = "Dog food, 2 kg"
    product.save()
    assert history(product) == [(1280, 5)]
