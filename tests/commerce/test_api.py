"""The product feed (staff API token: the shop's server) and the catalogue read API."""

from __future__ import annotations

import json

import pytest

from personalization.commerce.models import Product, ProductChange
from tests.api.helpers import api_as
from tests.factories import MemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_catalogue")]
URL = "/api/v1/products/"


def item(sku="DOG-1", **fields) -> dict:
    return {"sku": sku, "name": f"Product {sku}", "price": 1280, "stock": 5, **fields}


def feed(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.fixture
def shop(staff):
    return api_as(user=staff)


def test_anonymous_visitors_and_members_may_not_feed_the_catalogue():
    anonymous = feed(api_as(), [item()])
    member = feed(api_as(user=MemberFactory()), [item()])
    assert anonymous.status_code == 401
    assert member.status_code == 403
    assert not Product.objects.exists()


def test_the_shop_creates_then_updates_products_by_sku(shop):
    response = feed(shop, [item("DOG-1", category="dog-food", pet_type="dog"), item("CAT-1")])
    assert response.status_code == 201
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    dog = Product.objects.get(sku="DOG-1")
    assert (dog.category, dog.pet_type, dog.price, dog.stock, dog.active) == (
        "dog-food", "dog", 1280, 5, True,
    )  # fmt: skip

    response = feed(shop, [item("DOG-1", stock=2), item("CAT-1", name="Cat tower", active=False)])
    assert response.status_code == 200
    assert response.json() == {"created": 0, "updated": 2, "unchanged": 0}
    dog.refresh_from_db()
    assert (dog.stock, dog.category, dog.pet_type) == (2, "dog-food", "dog")  # left out: kept
    cat = Product.objects.get(sku="CAT-1")
    assert (cat.name, cat.active) == ("Cat tower", False)
    # History: each creation, and the stock change; the renamed cat kept its price and stock.
    assert list(dog.changes.values_list("price", "stock")) == [(1280, 5), (1280, 2)]
    assert list(cat.changes.values_list("price", "stock")) == [(1280, 5)]


def test_the_same_body_twice_changes_nothing(shop):
    body = [item(f"SKU-{n}", price=100 * n, stock=n) for n in range(5)]
    assert feed(shop, body).json() == {"created": 5, "updated": 0, "unchanged": 0}
    before = list(Product.objects.values_list("sku", "updated_at"))
    response = feed(shop, body)
    assert response.status_code == 200
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 5}
    assert list(Product.objects.values_list("sku", "updated_at")) == before
    assert ProductChange.objects.count() == 5


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"stock": -1}, "stock"),
        ({"price": -10}, "price"),
        ({"price": "1280"}, "price"),
        ({"colour": "red"}, "colour"),
        ({"sku": None}, "sku"),
        ({"pet_type": "horse"}, "pet_type"),
        ({"category": "Dog Food!"}, "category"),
        ({"active": "yes"}, "active"),
        ({"sku": "A\x00B"}, "sku"),
    ],
)
def test_a_bad_item_is_a_400_naming_its_index_and_field_and_nothing_is_stored(shop, bad, field):
    Product.objects.create(sku="KEPT", name="Kept", price=500, stock=1)
    bad_item = {**item("SKU-2"), **bad}
    if bad.get("sku", "") is None:
        del bad_item["sku"]
    response = feed(shop, [item("KEPT", stock=0), item("SKU-1"), bad_item])
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(2, field)]
    assert response.json()["detail"]
    assert list(Product.objects.values_list("sku", "stock")) == [("KEPT", 1)]
    assert ProductChange.objects.count() == 1


def test_every_bad_item_is_listed(shop):
    response = feed(
        shop, [item("A", stock=-1), item("B"), {"name": "no sku", "price": 1, "stock": 1}]
    )
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [
        (0, "stock"), (2, "sku"),
    ]  # fmt: skip


def test_a_sku_twice_in_one_call_is_refused(shop):
    response = feed(shop, [item("A"), item("B"), item("A", stock=9)])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(2, "sku")]
    assert "0" in errors[0]["message"]
    assert not Product.objects.exists()


@pytest.mark.parametrize("body", [{"sku": "A"}, [], "products", [1, 2]])
def test_a_body_that_is_not_a_list_of_products_is_a_400(shop, body):
    response = feed(shop, body)
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not Product.objects.exists()


def test_malformed_json_is_a_400(shop):
    response = shop.post(URL, "[{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] is None


def test_a_thousand_items_are_stored_and_a_thousand_and_one_refused(shop):
    thousand = [item(f"SKU-{n:04d}", stock=n) for n in range(1000)]
    response = feed(shop, thousand)
    assert response.status_code == 201
    assert response.json()["created"] == 1000
    assert ProductChange.objects.count() == 1000

    response = feed(shop, [item(f"NEW-{n:04d}") for n in range(1001)])
    assert response.status_code == 400
    assert "1000" in response.json()["detail"].replace(",", "")
    assert Product.objects.count() == 1000


def test_anyone_reads_the_active_products_filtered_and_paginated(shop):
    feed(
        shop,
        [
            item("DOG-1", category="dog-food", pet_type="dog"),
            item("DOG-2", category="dog-food", pet_type="dog", active=False),
            item("CAT-1", category="cat-toys", pet_type="cat", price=2480),
        ],
    )
    everyone = api_as()
    listing = everyone.get(URL).json()
    assert [p["sku"] for p in listing["results"]] == ["CAT-1", "DOG-1"]
    assert listing["results"][0] | {"updated_at": None} == {
        "sku": "CAT-1", "name": "Product CAT-1", "category": "cat-toys", "pet_type": "cat",
        "price": 2480, "stock": 5, "image": None, "url": "", "updated_at": None,
    }  # fmt: skip
    assert [p["sku"] for p in everyone.get(URL, {"category": "dog-food"}).json()["results"]] == [
        "DOG-1"
    ]
    assert [p["sku"] for p in everyone.get(URL, {"pet_type": "cat"}).json()["results"]] == ["CAT-1"]
    page = everyone.get(URL, {"limit": 1, "offset": 1}).json()
    assert (page["count"], [p["sku"] for p in page["results"]]) == (2, ["DOG-1"])
    assert everyone.get(URL, {"pet_type": "horse"}).status_code == 400
    assert everyone.get(URL, {"limit": 0}).status_code == 400


def test_one_product_by_sku(shop):
    feed(shop, [item("DOG/1"), item("OFF", active=False)])
    assert api_as().get(f"{URL}DOG/1/").json()["sku"] == "DOG/1"
    assert api_as().get(f"{URL}OFF/").status_code == 404
    assert api_as().get(f"{URL}NONE/").status_code == 404
