"""The admin's product list draws each product's last 30 days of stock and price, from the
history rows the feed writes, in one query for the whole page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from personalization.commerce.history import sparkline_svg
from personalization.commerce.models import Product, ProductChange
from personalization.commerce.services import products_upsert
from tests.commerce.test_admin import LIST, editor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_catalogue")]


def polyline(svg: str, series: str) -> list[tuple[float, float]]:
    points = re.search(rf'data-series="{series}"[^>]*points="([^"]+)"', svg).group(1)
    return [tuple(map(float, pair.split(","))) for pair in points.split()]


def test_a_stock_fall_and_a_price_cut_are_drawn_and_said_in_words():
    start = timezone.now() - datetime.timedelta(days=20)
    with freeze_time(start):
        products_upsert([{"sku": "DOG-1", "name": "Dog food", "price": 1280, "stock": 12}])
    with freeze_time(start + datetime.timedelta(days=10)):
        products_upsert([{"sku": "DOG-1", "stock": 3}])
    with freeze_time(start + datetime.timedelta(days=15)):
        products_upsert([{"sku": "DOG-1", "price": 980}])
    product = Product.objects.get(sku="DOG-1")
    svg = sparkline_svg(list(product.changes.all()), product.price, product.stock)

    assert "Stock 12 → 3 · price ¥1,280 → ¥980 (30 days)" in svg
    stock = polyline(svg, "stock")
    assert stock[0][1] < stock[-1][1]  # higher stock is drawn higher (smaller y)
    price = polyline(svg, "price")
    assert price[0][1] < price[-1][1]
    assert [x for x, _ in stock] == sorted(x for x, _ in stock)  # time runs left to right


def test_an_unchanged_product_is_a_flat_line():
    product = Product.objects.create(sku="CAT-1", name="Cat tower", price=5000, stock=4)
    ProductChange.objects.filter(product=product).update(
        changed_at=timezone.now() - datetime.timedelta(days=90)
    )
    svg = sparkline_svg([], product.price, product.stock)
    assert "Stock 4 → 4 · price ¥5,000 → ¥5,000" in svg
    assert len({y for _, y in polyline(svg, "stock")}) == 1


def test_the_product_list_shows_the_history_in_one_query_per_page(client):
    products_upsert(
        [
            {"sku": f"SKU-{n}", "name": f"Product {n}", "price": 100 + n, "stock": n}
            for n in range(30)
        ]
    )
    products_upsert([{"sku": f"SKU-{n}", "stock": n + 1} for n in range(30)])
    client = editor(client, "en")
    client.get(LIST)  # warm the admin's own caches
    with CaptureQueriesContext(connection) as queries:
        html = client.get(LIST).content.decode()
    assert html.count('class="product-history"') == 20  # a page of the list
    history_queries = [q for q in queries if "commerce_productchange" in q["sql"]]
    assert len(history_queries) == 1
    assert "Stock 0 → 1" in html  # SKU-0: created with 0, then 1


def test_the_history_is_in_japanese(client):
    products_upsert([{"sku": "DOG-1", "name": "ドッグフード", "price": 1280, "stock": 12}])
    html = editor(client, "ja").get(LIST).content.decode()
    assert "在庫 12 → 12・価格 ¥1,280 → ¥1,280（30日間）" in html
