"""Favourites: the API (whoever the caller is, as for events), the rollup on the visitor kept in
step with the rows, the catalogue's price and stock followed by a real job, favourites moving
to the member on log-in, their events, and the segment attributes built on them."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, connections
from django.middleware.csrf import _get_new_csrf_string
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from personalization.attributes import attribute_for
from personalization.commerce.favourites import (
    MAX_FAVOURITES,
    favourite_add,
    favourite_remove,
    favourite_skus,
)
from personalization.commerce.models import Favourite, Product, ProductChange
from personalization.commerce.services import products_upsert
from personalization.conditions import compile_condition
from personalization.context import build_context
from personalization.events.models import Event
from personalization.forms import attribute_choices
from personalization.models import Consent, Segment, Visitor
from personalization.rules import Rule, rule_clause
from personalization.sentences import condition_sentence
from personalization.services import segment_size_compute
from tests.api.helpers import DESKTOP, api_as
from tests.factories import PASSWORD, MemberFactory
from tests.personalization.helpers import browse_as, signed_visitor_cookie

pytestmark = pytest.mark.django_db
URL = "/api/v1/favourites/"


def product(sku: str, *, price: int = 1000, stock: int = 10, **fields) -> Product:
    defaults = {"name": f"Product {sku}", "category": "dog-food", "pet_type": "dog"}
    return Product.objects.create(sku=sku, price=price, stock=stock, **{**defaults, **fields})


def add(client, sku, **extra):
    return client.post(URL, json.dumps({"sku": sku}), content_type="application/json", **extra)


def rows(visitor) -> dict[str, int]:
    return dict(
        Favourite.objects.filter(visitor=visitor).values_list("product__sku", "price_when_added")
    )


def assert_rollup_matches_rows(visitor: Visitor) -> None:
    visitor.refresh_from_db()
    stored = rows(visitor)
    assert set(visitor.favourites_rollup) == set(stored)
    for sku, price_when_added in stored.items():
        current = Product.objects.get(sku=sku)
        entry = visitor.favourites_rollup[sku]
        assert entry["price_when_added"] == price_when_added
        assert (entry["price"], entry["stock"]) == (current.price, current.stock)
        assert (entry["category"], entry["pet"]) == (current.category, current.pet_type)


# THE API AND WHOSE FAVOURITES
# ------------------------------------------------------------------------------


def test_a_visitor_without_a_row_favourites_lists_and_removes_by_token():
    food = product("DOG/FOOD-2KG", price=1480, stock=4, image=None)
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    assert api.get(URL).json() == {"count": 0, "max": MAX_FAVOURITES, "results": []}
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()

    created = add(api, food.sku)
    assert created.status_code == 201
    body = created.json()
    assert (body["sku"], body["price"], body["price_when_added"], body["active"]) == (
        "DOG/FOOD-2KG", 1480, 1480, True,
    )  # fmt: skip
    visitor = Visitor.objects.get(uuid=visitor_uuid)  # created as the event job would
    assert visitor.user_id is None
    assert add(api, food.sku).status_code == 200  # already a favourite: nothing changes
    assert Favourite.objects.filter(visitor=visitor).count() == 1
    assert_rollup_matches_rows(visitor)
    assert favourite_skus(visitor) == {"DOG/FOOD-2KG"}

    listed = api.get(URL).json()
    assert listed["count"] == 1
    assert [f["sku"] for f in listed["results"]] == ["DOG/FOOD-2KG"]
    assert "private" in api.get(URL)["Cache-Control"]

    assert api.delete(f"{URL}DOG/FOOD-2KG/").status_code == 204  # a SKU with a slash
    assert api.delete(f"{URL}DOG/FOOD-2KG/").status_code == 404  # no longer a favourite
    assert api.delete(f"{URL}NO-SUCH-SKU/").status_code == 404
    visitor.refresh_from_db()
    assert visitor.favourites_rollup == {}
    assert not Favourite.objects.filter(visitor=visitor).exists()


def test_a_member_by_api_token_favourites_on_their_own_visitor():
    food = product("CAT-1", category="cat-food", pet_type="cat")
    member = MemberFactory()
    own = Visitor.objects.create(user=member)
    api = api_as(uuid.uuid4(), user=member)  # a token from another device as well
    assert add(api, food.sku).status_code == 201
    assert rows(own) == {"CAT-1": 1000}
    assert_rollup_matches_rows(own)


def test_a_member_without_a_visitor_gets_one():
    food = product("CAT-2")
    member = MemberFactory()
    assert add(api_as(user=member), food.sku).status_code == 201
    visitor = Visitor.objects.get(user=member)
    assert rows(visitor) == {"CAT-2": 1000}


def test_a_token_naming_a_members_visitor_never_writes_to_it():
    food = product("DOG-1")
    member = MemberFactory()
    members_visitor = Visitor.objects.create(user=member)
    response = add(api_as(members_visitor.uuid), food.sku)  # no member credentials
    assert response.status_code == 201
    assert rows(members_visitor) == {}
    assert Favourite.objects.get(product=food).visitor.user_id is None


def test_the_shop_server_favourites_for_the_visitor_its_token_names(staff):
    food = product("DOG-2")
    visitor = Visitor.objects.create()
    response = add(api_as(visitor.uuid, user=staff), food.sku)
    assert response.status_code == 201
    assert rows(visitor) == {"DOG-2": 1000}
    assert not Visitor.objects.filter(user=staff).exists()


def csrf_client(visitor_uuid) -> tuple[APIClient, str]:
    """A browser on the site: the visitor cookie and a CSRF cookie, CSRF checks on."""
    client = APIClient(enforce_csrf_checks=True, HTTP_USER_AGENT=DESKTOP)
    secret = _get_new_csrf_string()
    client.cookies[settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(visitor_uuid)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return client, secret


def test_a_browser_identified_by_its_cookie_needs_the_csrf_token():
    food = product("DOG-3")
    visitor_uuid = uuid.uuid4()
    client, secret = csrf_client(visitor_uuid)
    refused = add(client, food.sku)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Favourite.objects.filter(product=food).exists()
    assert client.get(URL).status_code == 200  # reading needs none

    assert add(client, food.sku, HTTP_X_CSRFTOKEN=secret).status_code == 201
    assert rows(Visitor.objects.get(uuid=visitor_uuid)) == {"DOG-3": 1000}
    assert client.delete(f"{URL}DOG-3/").status_code == 403
    assert client.delete(f"{URL}DOG-3/", HTTP_X_CSRFTOKEN=secret).status_code == 204


def test_a_logged_in_member_on_the_site_needs_the_csrf_token_too():
    food = product("DOG-4")
    member = MemberFactory()
    client, secret = csrf_client(uuid.uuid4())
    client.force_login(member)
    assert add(client, food.sku).status_code == 403
    assert add(client, food.sku, HTTP_X_CSRFTOKEN=secret).status_code == 201
    assert rows(Visitor.objects.get(user=member)) == {"DOG-4": 1000}


# BAD INPUT
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "sku"),
        ({"sku": "NO-SUCH"}, "sku"),
        ({"sku": "OLD-1"}, "sku"),  # not on sale any more
        ({"sku": 12}, "sku"),
        ({"sku": ""}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"sku": "DOG-5", "colour": "red"}, "colour"),
        ([{"sku": "DOG-5"}], "non_field_errors"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(body, field):
    product("DOG-5")
    product("OLD-1", active=False)
    visitor_uuid = uuid.uuid4()
    response = api_as(visitor_uuid).post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Favourite.objects.filter(product__sku__in=["DOG-5", "OLD-1"]).exists()
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()  # nothing written at all


def test_a_body_that_is_not_json_is_refused():
    product("DOG-6")
    api = api_as(uuid.uuid4())
    broken = api.post(URL, '{"sku": ', content_type="application/json")
    assert broken.status_code == 400
    assert "detail" in broken.json()
    assert api.post(URL, "sku=DOG-6", content_type="text/plain").status_code == 415
    assert not Favourite.objects.filter(product__sku="DOG-6").exists()


def test_a_visitor_keeps_at_most_the_maximum():
    products = Product.objects.bulk_create(
        Product(sku=f"BULK-{n}", name=f"Bulk {n}", price=100, stock=5)
        for n in range(MAX_FAVOURITES + 1)
    )
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    assert add(api, "BULK-0").status_code == 201
    visitor = Visitor.objects.get(uuid=visitor_uuid)
    Favourite.objects.bulk_create(
        Favourite(visitor=visitor, product=p, price_when_added=100)
        for p in products[1:MAX_FAVOURITES]
    )
    full = add(api, f"BULK-{MAX_FAVOURITES}")
    assert full.status_code == 409
    assert str(MAX_FAVOURITES) in full.json()["detail"]
    assert Favourite.objects.filter(visitor=visitor).count() == MAX_FAVOURITES


# MERGING ON LOG-IN
# ------------------------------------------------------------------------------


def test_anonymous_favourites_move_to_the_member_on_log_in_without_duplicates(client):
    shared, only_anonymous, only_member = product("A"), product("B"), product("C")
    anonymous = Visitor.objects.create()
    favourite_add(anonymous, shared)
    favourite_add(anonymous, only_anonymous)
    member = MemberFactory()
    members_visitor = Visitor.objects.create(user=member)
    Product.objects.filter(pk=shared.pk).update(price=900)  # the member added it at 900
    shared.refresh_from_db()
    favourite_add(members_visitor, shared)
    favourite_add(members_visitor, only_member)

    browse_as(client, anonymous)
    response = client.post("/account/login/", {"username": member.username, "password": PASSWORD})
    assert response.status_code == 302

    assert rows(members_visitor) == {"A": 900, "B": 1000, "C": 1000}  # the member's row kept
    assert_rollup_matches_rows(members_visitor)
    anonymous.refresh_from_db()
    assert anonymous.merged_into_id == members_visitor.pk
    assert rows(anonymous) == {}
    assert anonymous.favourites_rollup == {}
    listed = client.get(URL).json()  # the site session now speaks for the member
    assert sorted(f["sku"] for f in listed["results"]) == ["A", "B", "C"]


def test_signing_up_keeps_the_anonymous_favourites(client):
    food = product("D")
    anonymous = Visitor.objects.create()
    favourite_add(anonymous, food)
    browse_as(client, anonymous)
    client.post(
        "/account/signup/",
        {
            "name": "Ren",
            "email": "ren@example.com",
            "password1": "walkies-at-dawn-42",
            "password2": "walkies-at-dawn-42",
        },
    )
    visitor = Visitor.objects.get(user__email="ren@example.com")
    assert rows(visitor) == {"D": 1000}
    assert favourite_skus(visitor) == {"D"}


# THE CATALOGUE'S CHANGES, THROUGH THE JOB
# ------------------------------------------------------------------------------


def test_a_feed_change_refreshes_the_rollups_of_those_who_favourited_it(run_jobs):
    food, toy, other = product("FOOD", price=2000, stock=20), product("TOY"), product("OTHER")
    fans = [Visitor.objects.create() for _ in range(3)]
    for visitor in fans:
        favourite_add(visitor, food)
        favourite_add(visitor, toy)
    bystander = Visitor.objects.create()
    favourite_add(bystander, other)
    before = {v.pk: v.favourites_rollup["TOY"] for v in fans}

    with run_jobs():
        products_upsert(
            [
                {"sku": "FOOD", "name": "Food", "price": 1500, "stock": 2},
                {"sku": "OTHER", "name": "Other", "price": 1000, "stock": 10},  # unchanged
            ]
        )

    for visitor in fans:
        assert_rollup_matches_rows(visitor)
        entry = visitor.favourites_rollup["FOOD"]
        assert (entry["price_when_added"], entry["price"], entry["stock"]) == (2000, 1500, 2)
        assert visitor.favourites_rollup["TOY"] == before[visitor.pk]
        attributes = build_context(None, visitor)["favourites"]
        assert (attributes["low_stock"], attributes["on_sale"]) == (True, True)
    assert_rollup_matches_rows(bystander)
    assert build_context(None, bystander)["favourites"]["on_sale"] is False


def test_an_admin_save_of_a_product_refreshes_the_rollups_too(run_jobs):
    food = product("SAVE", stock=10)
    visitor = Visitor.objects.create()
    favourite_add(visitor, food)
    with run_jobs():
        food.stock = 0
        food.save()
    visitor.refresh_from_db()
    assert visitor.favourites_rollup["SAVE"]["stock"] == 0
    assert build_context(None, visitor)["favourites"]["low_stock"] is False  # sold out, not low


def test_a_product_the_feed_deactivates_is_no_longer_low_in_stock_or_on_sale(run_jobs):
    low = product("GONE", price=2000, stock=2)
    visitor = Visitor.objects.create()
    favourite_add(visitor, low)
    with run_jobs():
        products_upsert([{"sku": "GONE", "price": 1500}])
    visitor.refresh_from_db()
    attributes = build_context(None, visitor)["favourites"]
    assert (attributes["low_stock"], attributes["on_sale"]) == (True, True)

    # Only the active flag changes: no history row, yet the rollup follows.
    history = ProductChange.objects.filter(product=low).count()
    with run_jobs():
        products_upsert([{"sku": "GONE", "active": False}])
    assert ProductChange.objects.filter(product=low).count() == history
    visitor.refresh_from_db()
    assert visitor.favourites_rollup["GONE"]["active"] is False
    attributes = build_context(None, visitor)["favourites"]
    assert (attributes["count"], attributes["low_stock"], attributes["on_sale"]) == (
        1,
        False,
        False,
    )

    with run_jobs():  # back on sale
        products_upsert([{"sku": "GONE", "active": True}])
    visitor.refresh_from_db()
    assert build_context(None, visitor)["favourites"]["low_stock"] is True


def test_deleting_a_product_rebuilds_the_rollups_of_those_who_kept_it(run_jobs):
    doomed, kept = product("DOOMED", stock=2), product("KEPT", stock=20)
    fans = [Visitor.objects.create() for _ in range(2)]
    for visitor in fans:
        favourite_add(visitor, doomed)
        favourite_add(visitor, kept)
    with run_jobs():
        doomed.delete()
    for visitor in fans:
        visitor.refresh_from_db()
        assert set(visitor.favourites_rollup) == {"KEPT"}
        assert_rollup_matches_rows(visitor)
        attributes = build_context(None, visitor)["favourites"]
        assert (attributes["count"], attributes["low_stock"]) == (1, False)


def test_a_change_that_writes_no_history_row_is_still_announced(run_jobs):
    from personalization.commerce.signals import products_changed

    renamed = product("RENAME")
    sent = []

    def listener(sender, change_ids, product_ids=(), **kwargs):
        sent.append((list(change_ids), list(product_ids)))

    products_changed.connect(listener, weak=False)
    try:
        history = ProductChange.objects.count()
        with run_jobs():
            products_upsert([{"sku": "RENAME", "name": "Renamed", "active": False}])
        with run_jobs():
            renamed.refresh_from_db()
            renamed.url = "https://shop.example.jp/renamed"
            renamed.save()
    finally:
        products_changed.disconnect(listener)
    assert ProductChange.objects.count() == history  # neither changed price or stock
    assert sent == [([], [renamed.pk]), ([], [renamed.pk])]


def test_a_large_feed_call_is_refreshed_by_a_job_per_batch(run_jobs):
    from personalization.commerce.receivers import REFRESH_BATCH

    count = REFRESH_BATCH + 1
    Product.objects.bulk_create(
        Product(sku=f"BIG-{n:05d}", name=f"Big {n}", price=500, stock=50) for n in range(count)
    )
    first, last = (
        Product.objects.get(sku="BIG-00000"),
        Product.objects.get(sku=f"BIG-{count - 1:05d}"),
    )
    visitor = Visitor.objects.create()
    favourite_add(visitor, first)
    favourite_add(visitor, last)
    with run_jobs():
        products_upsert(
            [
                {"sku": f"BIG-{n:05d}", "name": f"Big {n}", "price": 500, "stock": 1}
                for n in range(count)
            ]
        )
    visitor.refresh_from_db()
    assert {sku: entry["stock"] for sku, entry in visitor.favourites_rollup.items()} == {
        first.sku: 1,
        last.sku: 1,
    }


# EVENTS
# ------------------------------------------------------------------------------


def test_adding_and_removing_record_events_through_the_pipeline(run_jobs):
    food = product("EV-1", category="treats")
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    with run_jobs():
        assert add(api, "EV-1").status_code == 201
        assert add(api, "EV-1").status_code == 200  # no change, no event
        assert api.delete(f"{URL}EV-1/").status_code == 204
    events = Event.objects.filter(visitor__uuid=visitor_uuid).order_by("pk")
    assert [(e.type, e.properties["sku"]) for e in events] == [
        ("favourite_added", "EV-1"),
        ("favourite_removed", "EV-1"),
    ]
    assert events[0].properties["category"] == food.category
    assert Visitor.objects.get(uuid=visitor_uuid).last_seen_at is not None


def test_a_members_favourite_events_land_in_their_history(run_jobs):
    product("EV-2")
    member = MemberFactory()
    with run_jobs():
        assert add(api_as(user=member), "EV-2").status_code == 201
    assert Event.objects.get(type="favourite_added", visitor__user=member).properties == {
        "sku": "EV-2",
        "category": "dog-food",
    }


def test_without_analytics_consent_the_favourite_is_kept_but_no_event(run_jobs):
    product("EV-3")
    visitor_uuid = uuid.uuid4()
    Consent.objects.create(visitor_uuid=visitor_uuid, analytics=False, personalization=False)
    with run_jobs():
        assert add(api_as(visitor_uuid), "EV-3").status_code == 201
    assert rows(Visitor.objects.get(uuid=visitor_uuid)) == {"EV-3": 1000}
    assert not Event.objects.filter(visitor__uuid=visitor_uuid).exists()


# SEGMENT ATTRIBUTES
# ------------------------------------------------------------------------------


def test_the_attributes_read_the_rollup_without_a_query():
    dog, cat = product("P-DOG", price=1000, stock=3), product("P-CAT", category="cat-food")
    Product.objects.filter(pk=cat.pk).update(pet_type="cat")
    cat.refresh_from_db()
    visitor = Visitor.objects.create()
    favourite_add(visitor, dog)
    favourite_add(visitor, cat)
    visitor.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        favourites = build_context(None, visitor)["favourites"]
        skus = favourite_skus(visitor)
    assert len(queries) == 0
    assert skus == {"P-DOG", "P-CAT"}
    assert favourites == {
        "count": 2,
        "categories": ["cat-food", "dog-food"],
        "pets": ["cat", "dog"],
        "low_stock": True,  # 3 left: at COMMERCE_LOW_STOCK
        "on_sale": False,
    }
    favourite_remove(visitor, dog)
    assert build_context(None, visitor)["favourites"]["low_stock"] is False


def test_nonsense_in_a_stored_rollup_never_fails_the_attributes():
    visitor = Visitor.objects.create(
        favourites_rollup={
            "A": "not an entry",
            "B": {"stock": "2", "price": None, "price_when_added": 10**30, "category": 5},
            "C": {"stock": True, "pet": ""},
        }
    )
    assert build_context(None, visitor)["favourites"] == {
        "count": 2, "categories": [], "pets": [], "low_stock": False, "on_sale": False,
    }  # fmt: skip


def test_the_rule_builder_offers_the_favourite_attributes_with_sentences():
    offered = {label: dict(choices) for label, choices in attribute_choices()}
    assert set(offered["Favourites"]) == {
        "favourites.count",
        "favourites.categories",
        "favourites.pets",
        "favourites.low_stock",
        "favourites.on_sale",
    }
    assert attribute_for("favourites.low_stock").kind == "boolean"
    clause = rule_clause(Rule("favourites.categories", "contains", "dog-food"))
    assert condition_sentence(clause) == "Favourite categories include dog-food"
    on_sale = rule_clause(Rule("favourites.on_sale", "true"))
    assert condition_sentence(on_sale) == "Has a favourite on sale: yes"
    at_least = rule_clause(Rule("favourites.count", "gte", "3"))
    assert condition_sentence(at_least) == "Number of favourites is at least 3"


def test_a_segment_on_favourites_matches_after_a_price_cut(run_jobs):
    food = product("SEG-1", price=3000)
    segment = Segment.objects.create(
        name="Favourite on sale",
        slug="favourite-on-sale",
        priority=1000,
        condition={"$and": [{"favourites.on_sale": {"$eq": True}}]},
    )
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    with run_jobs():  # its event makes the visitor a recent one, whom segment sizes count
        assert add(api, "SEG-1").status_code == 201

    def matched() -> list[str]:
        return [s["slug"] for s in api.get("/api/v1/visitor/").json()["segments"]]

    assert "favourite-on-sale" not in matched()
    others = segment_size_compute(segment_id=segment.pk)  # demo members, if any
    with run_jobs():
        products_upsert([{"sku": "SEG-1", "name": food.name, "price": 2400, "stock": 10}])
    assert "favourite-on-sale" in matched()
    assert segment_size_compute(segment_id=segment.pk) == others + 1
    test = compile_condition(segment.condition, {})
    assert test(build_context(None, Visitor.objects.get(uuid=visitor_uuid)))


# CONCURRENCY
# ------------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL: the tests' in-memory SQLite locks whole tables, without waiting",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_first_favourites_of_a_new_visitor_make_one_visitor_with_both():
    skus = [f"RACE-{n}" for n in range(6)]
    for sku in skus:
        product(sku)
    visitor_uuid = uuid.uuid4()
    barrier = threading.Barrier(len(skus))

    def favourite(sku: str) -> int:
        try:
            api = api_as(visitor_uuid)
            barrier.wait(timeout=10)
            return add(api, sku).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(skus)) as pool:
        statuses = list(pool.map(favourite, skus))
    assert statuses == [201] * len(skus)
    visitor = Visitor.objects.get(uuid=visitor_uuid)
    assert set(rows(visitor)) == set(skus)
    assert_rollup_matches_rows(visitor)
