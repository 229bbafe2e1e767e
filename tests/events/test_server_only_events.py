"""Event types only the site itself records (`SERVER_ONLY`: favourites added or removed, the
recommendations shown) are refused by the events API from anyone — a visitor's browser and the
shop's staff token alike — as a per-item 400 naming `type`, and the batch they are in is not
recorded. The types frontends do send (product views, recommendation clicks) still pass."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import translation
from rest_framework.exceptions import ValidationError

from personalization.events.api.serializers import EventSerializer, event_quickly_validated
from personalization.events.models import SERVER_ONLY, Event, EventType
from personalization.models import Visitor
from tests.api.helpers import api_as

pytestmark = pytest.mark.django_db

REFUSED = "The site records this event itself; it cannot be sent to the API."

PROPERTIES = {
    EventType.FAVOURITE_ADDED: {"sku": "DOG-FOOD-2KG", "category": "food"},
    EventType.FAVOURITE_REMOVED: {"sku": "DOG-FOOD-2KG", "category": "food"},
    EventType.RECOMMENDATION_IMPRESSION: {"sku": "DOG-FOOD-2KG", "arm": "explore", "block": "b"},
}


def post(api, body):
    return api.post("/api/v1/events/", body, format="json")


def test_the_server_only_types_are_the_favourites_and_the_impressions():
    assert set(PROPERTIES) == SERVER_ONLY
    # What frontends send (docs/frontend-guide.md, section 4) is not among them.
    assert not SERVER_ONLY & {
        EventType.PAGE_VIEW,
        EventType.PRODUCT_VIEW,
        EventType.RECOMMENDATION_CLICK,
        EventType.ADD_TO_CART,
        EventType.GOAL,
    }


@pytest.mark.parametrize("event_type", sorted(SERVER_ONLY))
@pytest.mark.parametrize("as_staff", [False, True], ids=["visitor", "shop server"])
def test_a_server_only_event_is_400_naming_type_and_nothing_is_written(
    run_jobs, staff, event_type, as_staff
):
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid, user=staff if as_staff else None)
    with run_jobs():
        response = post(api, {"type": event_type, "properties": PROPERTIES[event_type]})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Event 0 is invalid; none was recorded.",
        "errors": [{"index": 0, "field": "type", "message": REFUSED}],
    }
    assert not Event.objects.filter(type=event_type).exists()
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()


def test_one_server_only_event_rejects_its_batch_naming_its_index(run_jobs):
    visitor_uuid = uuid.uuid4()
    batch = [
        {"type": "product_view", "properties": {"sku": "DOG-FOOD-2KG", "category": "food"}},
        {"type": "favourite_added", "properties": {"sku": "DOG-FOOD-2KG"}},
        {"type": "teleport"},
        {"type": "recommendation_impression", "properties": {"arm": "sideways"}},
    ]
    with run_jobs():
        response = post(api_as(visitor_uuid), batch)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Event 1 is invalid; none was recorded."
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "type"),
        (2, "type"),
        (3, "type"),
    ]
    assert body["errors"][0]["message"] == REFUSED
    assert body["errors"][2]["message"] == REFUSED  # named before its properties are read
    assert not Event.objects.filter(visitor__uuid=visitor_uuid).exists()


def test_the_types_frontends_send_are_still_accepted(run_jobs):
    visitor_uuid = uuid.uuid4()
    sku = "DOG-FOOD-2KG"
    batch = [
        {"type": "product_view", "properties": {"sku": sku, "category": "food"}},
        {
            "type": "recommendation_click",
            "properties": {"sku": sku, "arm": "explore", "block": "b"},
        },
    ]
    with run_jobs():
        response = post(api_as(visitor_uuid), batch)
    assert response.status_code == 202, response.json()
    stored = Event.objects.filter(visitor__uuid=visitor_uuid)
    assert sorted(stored.values_list("type", flat=True)) == ["product_view", "recommendation_click"]


def test_the_refusal_is_translated():
    validator = EventSerializer(context={"user": AnonymousUser()})
    with translation.override("ja"), pytest.raises(ValidationError) as refused:
        validator.run_validation({"type": "favourite_added"})
    assert refused.value.detail["type"] == [
        "このイベントはサイト自身が記録するため、API から送信することはできません。"
    ]


@pytest.mark.parametrize("event_type", sorted(SERVER_ONLY))
@pytest.mark.parametrize("is_staff", [False, True], ids=["visitor", "shop server"])
def test_the_quick_check_leaves_server_only_events_to_the_serializer(event_type, is_staff):
    user = User(username="shop", is_staff=True) if is_staff else AnonymousUser()
    validator = EventSerializer(context={"user": user})
    item = {"type": event_type, "properties": PROPERTIES[event_type]}
    assert event_quickly_validated(item, validator) is None
    with pytest.raises(ValidationError) as refused:
        validator.run_validation(item)
    assert refused.value.detail == {"type": [REFUSED]}


def test_the_frontend_guide_says_which_types_are_refused():
    from pathlib import Path

    from django.conf import settings

    guide = (Path(settings.BASE_DIR) / "docs" / "frontend-guide.md").read_text()
    section = guide[guide.index("## 4. Report what the visitor does") :].split("\n## ")[0]
    paragraph = " ".join(section[section.index("- `type`:") :].split("\n- ")[0].split())
    for event_type in SERVER_ONLY:
        assert f"`{event_type}`" in paragraph, event_type
    assert f'"{REFUSED}"' in paragraph
