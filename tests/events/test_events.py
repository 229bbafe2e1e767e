"""Events through the API: one or a batch, validated all-or-nothing, idempotent, queued, and
throttled per visitor and per address."""

from __future__ import annotations

import datetime
import json
import time
import uuid

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from wagtail.models import Page

from cms.models import ContentPage, SectionPage
from personalization.events.models import Event
from personalization.models import Segment, Visitor
from tests.api.helpers import api_as, api_segments

pytestmark = pytest.mark.django_db


def post(api: APIClient, body):
    return api.post("/api/v1/events/", body, format="json")


def test_one_event_is_accepted_queued_and_stored(run_jobs):
    visitor_uuid = uuid.uuid4()
    article = ContentPage.objects.get(slug="choosing-dog-food")
    with run_jobs():
        response = post(api_as(visitor_uuid), {"type": "page_view", "page": article.pk})
    assert response.status_code == 202
    assert response.json() == {"accepted": 1}
    visitor = Visitor.objects.get(uuid=visitor_uuid)
    assert visitor.section_views == {"dogs": 1}
    assert visitor.tag_views == {"food": 1, "dog": 1}


def test_page_views_reported_by_a_frontend_move_behaviour_segments(run_jobs):
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    dogs = SectionPage.objects.get(slug="dogs")
    with run_jobs():
        batch = [
            {"type": "page_view", "page": dogs.pk, "idempotency_key": f"v{i}"} for i in range(3)
        ]
        assert post(api, batch).status_code == 202
    body = api.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]
    assert api_segments(body) == [str(Segment.objects.get(slug="dog-section-fans").pk)]


def test_a_batch_is_stored_whole_and_an_idempotency_key_only_once(run_jobs):
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    batch = [
        {"type": "add_to_cart", "properties": {"sku": "litter-7l", "price": 1800}},
        {"type": "goal", "name": "newsletter-signup", "idempotency_key": "goal-1"},
        {"type": "goal", "name": "newsletter-signup", "idempotency_key": "goal-1"},
    ]
    with run_jobs():
        assert post(api, batch).json() == {"accepted": 3}
        assert post(api, batch[1]).status_code == 202  # a retry of the same event
    events = Event.objects.filter(visitor__uuid=visitor_uuid)
    assert sorted(events.values_list("type", flat=True)) == ["add_to_cart", "goal"]
    assert Visitor.objects.get(uuid=visitor_uuid).cart["items"]["litter-7l"]["quantity"] == 1


def test_a_members_events_are_their_own(run_jobs):
    from tests.factories import MemberFactory

    member = MemberFactory()
    with run_jobs():
        post(api_as(uuid.uuid4(), user=member), {"type": "goal", "name": "quiz-done"})
    assert Event.objects.get(name="quiz-done").visitor.user == member


def test_a_token_naming_a_members_visitor_adds_nothing_to_their_history(run_jobs):
    from tests.factories import MemberFactory

    member = MemberFactory()
    theirs = Visitor.objects.create(user=member)
    with run_jobs():
        assert post(api_as(theirs.uuid), {"type": "goal", "name": "anon"}).status_code == 202
        other = MemberFactory()
        assert post(api_as(theirs.uuid, user=other), {"type": "goal", "name": "other"}).json() == {
            "accepted": 1
        }
    assert not Event.objects.filter(visitor=theirs).exists()
    assert Event.objects.get(name="anon").visitor.user is None
    assert Event.objects.get(name="other").visitor.user == other


def test_the_shops_server_reports_a_purchase_for_a_members_visitor(run_jobs, staff):
    from tests.factories import MemberFactory

    theirs = Visitor.objects.create(user=MemberFactory())
    with run_jobs():
        response = post(api_as(theirs.uuid, user=staff), {"type": "purchase"})
    assert response.status_code == 202
    assert Event.objects.get(type="purchase").visitor == theirs


def test_the_shops_server_reports_a_purchase_for_a_visitor(run_jobs, staff):
    visitor = Visitor.objects.create()
    server = api_as(visitor.uuid, user=staff)
    with run_jobs():
        response = post(server, {"type": "purchase", "properties": {"amount": 31000}})
    assert response.status_code == 202
    visitor.refresh_from_db()
    assert visitor.purchase_count == 1 and visitor.total_spend == 31000
    assert not Visitor.objects.filter(user=staff, purchase_count__gt=0).exists()


# BAD INPUT
# ------------------------------------------------------------------------------

FUTURE = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
ANCIENT = "2000-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "teleport"}, "type"),
        ({"type": 5}, "type"),
        ({}, "type"),
        ({"type": "page_view", "page": 999999}, "page"),
        ({"type": "page_view", "page": 0}, "page"),
        ({"type": "page_view", "page": "abc"}, "page"),
        ({"type": "page_view", "page": 2**70}, "page"),
        ({"type": "page_view", "properties": "x"}, "properties"),
        ({"type": "page_view", "properties": ["x"]}, "properties"),
        ({"type": "page_view", "properties": {"blob": "x" * 5000}}, "properties"),
        ({"type": "page_view", "properties": {"k": "nul\x00"}}, "properties.k"),
        ({"type": "page_view", "occurred_at": FUTURE}, "occurred_at"),
        ({"type": "page_view", "occurred_at": ANCIENT}, "occurred_at"),
        ({"type": "page_view", "occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "page_view", "idempotency_key": "k" * 65}, "idempotency_key"),
        ({"type": "page_view", "idempotency_key": ""}, "idempotency_key"),
        ({"type": "goal"}, "name"),
        ({"type": "goal", "name": "n" * 101}, "name"),
        ({"type": "offer_impression"}, "name"),
    ],
)
def test_a_bad_event_is_400_naming_the_field_and_nothing_is_written(run_jobs, event, field):
    visitor_uuid = uuid.uuid4()
    with run_jobs():
        response = post(api_as(visitor_uuid), event)
    assert response.status_code == 400
    error = response.json()
    assert error["errors"][0]["index"] == 0 and error["errors"][0]["field"] == field
    assert error["detail"] == "Event 0 is invalid; none was recorded."
    assert not Visitor.objects.filter(uuid=visitor_uuid).exists()


def test_one_bad_event_rejects_the_whole_batch_naming_its_index(run_jobs):
    visitor_uuid = uuid.uuid4()
    home = Page.objects.get(depth=2)
    batch = [{"type": "page_view", "page": home.pk}] * 2 + [{"type": "nope"}, {"page": -1}]
    with run_jobs():
        response = post(api_as(visitor_uuid), batch)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(2, "type"), (3, "type"), (3, "page")]
    assert not Event.objects.filter(visitor__uuid=visitor_uuid).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"type": "page_view"}] * 101, "at most 100"),
        ([], "at least one"),
        ("page_view", "one event object"),
        (42, "one event object"),
    ],
)
def test_batches_that_are_too_big_empty_or_not_events_are_400(run_jobs, body, message):
    before = Event.objects.count()
    with run_jobs():
        response = post(api_as(uuid.uuid4()), body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": None, "field": "events", "message": response.json()["detail"]}
    ]
    assert message in response.json()["detail"]
    assert Event.objects.count() == before


@pytest.mark.parametrize(("raw", "field"), [("null", "events"), ("", "type"), ("\x00", "events")])
def test_a_null_empty_or_unparsable_body_is_400(raw, field):
    response = api_as(uuid.uuid4()).generic(
        "POST", "/api/v1/events/", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_items_that_are_not_objects_are_named_by_index():
    response = post(api_as(uuid.uuid4()), [{"type": "page_view"}, "oops"])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "index": 1,
            "field": "non_field_errors",
            "message": response.json()["errors"][0]["message"],
        }
    ]


def test_invalid_json_and_other_media_types_are_refused():
    api = api_as(uuid.uuid4())
    broken = api.generic("POST", "/api/v1/events/", '{"type": ', content_type="application/json")
    assert broken.status_code == 400 and "JSON parse error" in broken.json()["detail"]
    assert broken.json()["errors"][0]["field"] == "events"
    nan = api.generic("POST", "/api/v1/events/", '{"type": NaN}', content_type="application/json")
    assert nan.status_code == 400
    form = api.generic("POST", "/api/v1/events/", "type=page_view",
                       content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert form.status_code == 415


def test_properties_just_under_4_kb_are_accepted():
    blob = "x" * (4096 - len(json.dumps({"blob": ""}, separators=(",", ":"))))
    response = post(
        api_as(uuid.uuid4()), {"type": "goal", "name": "g", "properties": {"blob": blob}}
    )
    assert response.status_code == 202


# THROTTLING
# ------------------------------------------------------------------------------


def test_a_visitor_sending_too_fast_is_throttled_with_retry_after(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "visitor": "2/minute"}
    api = api_as(uuid.uuid4())
    assert [post(api, {"type": "goal", "name": "g"}).status_code for _ in range(2)] == [202, 202]
    throttled = post(api, {"type": "goal", "name": "g"})
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert post(api_as(uuid.uuid4()), {"type": "goal", "name": "g"}).status_code == 202


def test_a_throttled_visitor_may_send_again_when_the_window_ends(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "visitor": "1/second"}
    api = api_as(uuid.uuid4())
    assert post(api, {"type": "goal", "name": "g"}).status_code == 202
    throttled = post(api, {"type": "goal", "name": "g"})
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "1"
    time.sleep(1.1)
    assert post(api, {"type": "goal", "name": "g"}).status_code == 202


def test_one_address_sending_for_many_visitors_is_throttled(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ip": "3/minute"}
    codes = [
        post(api_as(uuid.uuid4()), {"type": "goal", "name": "g"}).status_code for _ in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    other = api_as(uuid.uuid4(), REMOTE_ADDR="198.51.100.7")
    assert post(other, {"type": "goal", "name": "g"}).status_code == 202


def test_token_requests_are_throttled_per_address(settings, staff):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login": "2/minute"}
    api = APIClient()
    bad = {"username": "admin", "password": "wrong"}
    assert [api.post("/api/v1/auth-token/", bad, format="json").status_code for _ in range(2)] == [
        400,
        400,
    ]
    assert api.post("/api/v1/auth-token/", bad, format="json").status_code == 429
    assert not Token.objects.filter(user=staff).exists()
