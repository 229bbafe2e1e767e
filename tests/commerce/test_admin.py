"""Editors browse and search products in the admin's Personalization menu, in English and
Japanese."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from wagtail.users.models import UserProfile

from personalization.commerce.models import Product
from tests.config.test_japanese_admin import untranslated

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_catalogue")]
LIST = "/admin/personalization/products/"


@pytest.fixture
def products(db):
    Product.objects.create(sku="DOG-1", name="Dog food", category="dog-food", price=12800, stock=5)
    Product.objects.create(
        sku="CAT-1", name="Cat tower", category="cat-toys", price=980, stock=0, active=False
    )


def editor(client, language: str):
    user = get_user_model().objects.get(username="admin")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client.force_login(user)
    return client


def test_the_product_list_shows_prices_in_yen_and_stock(client, products):
    html = editor(client, "en").get(LIST).content.decode()
    for text in ("SKU", "Category", "Price", "Stock", "Active", "¥12,800", "¥980", "Dog food"):
        assert text in html
    dashboard = editor(client, "en").get("/admin/").content.decode()
    assert LIST in dashboard  # the menu (JSON in the page) leads to it


def test_editors_search_by_sku_or_name_and_filter(client, products):
    client = editor(client, "en")
    assert "Cat tower" not in client.get(LIST, {"q": "DOG-1"}).content.decode()
    found = client.get(LIST, {"q": "tower"}).content.decode()
    assert "Cat tower" in found and "Dog food" not in found
    active = client.get(LIST, {"active": "true"}).content.decode()
    assert "Dog food" in active and "Cat tower" not in active
    toys = client.get(LIST, {"category": "cat-toys"}).content.decode()
    assert "Cat tower" in toys and "Dog food" not in toys


def test_the_product_list_is_in_japanese(client, products):
    html = editor(client, "ja").get(LIST).content.decode()
    assert "商品" in html and "価格" in html and "在庫" in html
    assert untranslated(html) == []
