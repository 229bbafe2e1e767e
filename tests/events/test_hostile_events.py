"""Hostile event data is refused before acceptance: a 202 means the events will be stored, and
anything that could not be (non-finite numbers, mistyped or absurd typed properties, nesting,
page views of pages the caller may not see) is a 400 naming the event and the field."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from cms.models import ContentPage
from personalization.events.models import Event
from personalization.events.properties import ANY_EVENT, EVENT_PROPERTIES
from personalization.models import Visitor
from tests.api.helpers import api_as
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def post_raw(api: APIClient, body: str):
    return api.post("/api/v1/events/", body, content_type="application/json")


def post(api: APIClient, body):
    return api.post("/api/v1/events/", body, format="json")


def only_error(response) -> dict:
    assert response.status_code == 400, response.content[:500]
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]


def padded(event: dict, index: int = 3) -> list[dict]:
    """`event` at `index` of a batch of otherwise valid page views."""
    batch = [{"type": "page_view", "idempotency_key": f"fine-{i}"} for i in range(5)]
    batch[index] = event
    return batch


# NON-FINITE NUMBERS
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1.5e999", "NaN", "Infinity", "-Infinity"])
def test_a_number_no_float_can_hold_is_refused_naming_its_event_and_field(literal, run_jobs):
    visitor_uuid = uuid.uuid4()
    batch = json.dumps(padded({"type": "goal", "name": "quiz", "properties": {"weight": 0}}))
    body = batch.replace('"weight": 0', f'"weight": {literal}')
    with run_jobs():
        response = post_raw(api_as(visitor_uuid), body)
    error = only_error(response)
    assert (error["index"], error["field"]) == (3, "properties.weight")
    assert "finite" in error["message"]
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()


def test_a_single_event_with_a_non_finite_number_names_event_zero():
    body = '{"type": "goal", "name": "quiz", "properties": {"scores": [1, 2, 1e400]}}'
    error = only_error(post_raw(api_as(uuid.uuid4()), body))
    assert (error["index"], error["field"]) == (0, "properties.scores[2]")


def test_every_json_endpoint_refuses_a_non_finite_number_naming_the_field():
    api = api_as(uuid.uuid4())
    body = '{"name": "Mika", "shoe_size": 1e400}'  # a field the endpoint would ignore
    response = api.patch("/api/v1/visitor/", body, content_type="application/json")
    assert response.status_code == 400
    assert "shoe_size" in response.json()["detail"]
    assert "finite" in response.json()["detail"]


# TYPED PROPERTIES
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["two", "1.5", "2", [1], {}, 1.5, True, None, 0, -1, 10_001])
def test_a_mistyped_or_absurd_cart_quantity_is_refused_naming_its_event(quantity):
    visitor_uuid = uuid.uuid4()
    event = {"type": "add_to_cart", "properties": {"sku": "litter-7l", "quantity": quantity}}
    error = only_error(post(api_as(visitor_uuid), padded(event)))
    assert (error["index"], error["field"]) == (3, "properties.quantity")
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()


def test_a_four_hundred_digit_quantity_is_refused():
    body = json.dumps(padded({"type": "add_to_cart", "properties": {"quantity": 1}}))
    error = only_error(
        post_raw(api_as(uuid.uuid4()), body.replace('"quantity": 1', f'"quantity": {"9" * 400}'))
    )
    assert (error["index"], error["field"]) == (3, "properties.quantity")


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"price": "1800"}, "price"),
        ({"price": -1}, "price"),
        ({"price": 1e308, "quantity": 9}, "price"),
        ({"price": 10**9 + 1}, "price"),
        ({"sku": ["a"]}, "sku"),
        ({"category": {"name": "food"}}, "category"),
    ],
)
def test_typed_cart_properties_are_checked(properties, field):
    event = {"type": "add_to_cart", "properties": properties}
    error = only_error(post(api_as(uuid.uuid4()), padded(event, index=1)))
    assert (error["index"], error["field"]) == (1, f"properties.{field}")


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"amount": "5000"}, "amount"),
        ({"amount": 1e308}, "amount"),
        ({"amount": 5000, "categories": "food"}, "categories"),
        ({"amount": 5000, "categories": [1, 2]}, "categories[0]"),
    ],
)
def test_typed_purchase_properties_are_checked_for_the_shops_server(properties, field, staff):
    shop = api_as(uuid.uuid4(), user=staff)
    error = only_error(post(shop, {"type": "purchase", "properties": properties}))
    assert (error["index"], error["field"]) == (0, f"properties.{field}")


def test_well_typed_properties_are_accepted_and_stored(run_jobs, staff):
    visitor_uuid = uuid.uuid4()
    cart = {"sku": "litter-7l", "quantity": 10_000, "price": 1800.5, "category": "litter"}
    with run_jobs():
        assert (
            post(api_as(visitor_uuid), {"type": "add_to_cart", "properties": cart}).status_code
            == 202
        )
        purchase = {"type": "purchase", "properties": {"amount": 10**9, "categories": ["litter"]}}
        assert post(api_as(visitor_uuid, user=staff), purchase).status_code == 202
    visitor = Visitor.objects.get(uuid=visitor_uuid)
    assert visitor.purchase_count == 1
    assert int(visitor.total_spend) == 10**9


def test_the_schema_documents_the_typed_properties():
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    text = json.dumps(schema.json())
    for name in ("quantity", "price", "amount", "categories"):
        assert name in text


def test_the_frontend_guide_lists_every_typed_property():
    guide = (Path(settings.BASE_DIR) / "docs" / "frontend-guide.md").read_text()
    rows = [line.strip() for line in guide.splitlines() if line.strip().startswith("| ")]
    for event_type in ["any", *EVENT_PROPERTIES]:
        documented = " ".join(r for r in rows if r.split("|")[1].strip(" `") == event_type)
        for spec in ANY_EVENT if event_type == "any" else EVENT_PROPERTIES[event_type]:
            assert f"`{spec.name}`" in documented, (event_type, spec.name)
            assert spec.kind.split()[0] in documented, (event_type, spec.name)


# NESTING
# ------------------------------------------------------------------------------


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [65, 450, 560, 680])
def test_properties_nested_too_deeply_are_refused_naming_the_field(depth):
    properties = nested_objects(depth)
    assert len(properties) < 4096
    body = '[{"type": "page_view"}, {"type": "page_view", "properties": ' + properties + "}]"
    error = only_error(post_raw(api_as(uuid.uuid4()), body))
    assert (error["index"], error["field"]) == (1, "properties")
    assert "deep" in error["message"]


def test_properties_nested_up_to_the_limit_are_accepted():
    body = '{"type": "page_view", "properties": ' + nested_objects(64) + "}"
    assert post_raw(api_as(uuid.uuid4()), body).status_code == 202


# MEMBERS-ONLY PAGES
# ------------------------------------------------------------------------------


def members_page() -> ContentPage:
    return ContentPage.objects.get(slug="member-offers")


def test_a_page_view_of_a_members_only_page_from_an_anonymous_caller_is_refused(run_jobs):
    visitor_uuid = uuid.uuid4()
    batch = padded({"type": "page_view", "page": members_page().pk}, index=2)
    with run_jobs():
        response = post(api_as(visitor_uuid), batch)
    error = only_error(response)
    assert (error["index"], error["field"]) == (2, "page")
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()


def test_a_page_view_of_the_members_section_itself_is_refused_to_an_anonymous_caller():
    section = members_page().get_parent()
    error = only_error(post(api_as(uuid.uuid4()), {"type": "page_view", "page": section.pk}))
    assert (error["index"], error["field"]) == (0, "page")


def test_a_member_may_report_viewing_a_members_only_page(run_jobs):
    member = MemberFactory()
    with run_jobs():
        response = post(
            api_as(uuid.uuid4(), user=member), {"type": "page_view", "page": members_page().pk}
        )
    assert response.status_code == 202
    assert Event.objects.filter(visitor__user=member, page=members_page()).count() == 1


def test_the_shops_server_may_report_a_members_only_page_view(run_jobs, staff):
    visitor_uuid = uuid.uuid4()
    with run_jobs():
        shop = api_as(visitor_uuid, user=staff)
        response = post(shop, {"type": "page_view", "page": members_page().pk})
    assert response.status_code == 202
    assert Event.objects.filter(visitor__uuid=visitor_uuid, page=members_page()).count() == 1
