"""Consent through the API (`/api/v1/consent/`): the banner's equivalent for apps and frontends.
The choice is stored where the site's banner stores it and has the same effects: personalization
withheld serves default content, analytics withheld keeps only strictly necessary events."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from personalization.consent import CONSENT_COOKIE
from personalization.events.models import Event
from personalization.models import Consent, Segment, Visitor
from tests.api.helpers import api_as, api_segments
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/consent/"


def test_until_the_visitor_chooses_the_defaults_apply_and_nothing_is_stored():
    visitor_uuid = uuid.uuid4()
    response = api_as(visitor_uuid).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "analytics": True,
        "personalization": True,
        "marketing": False,
        "recorded": False,
        "unsubscribed": False,
    }
    assert not Consent.objects.filter(visitor_uuid=visitor_uuid).exists()


def test_a_partial_change_keeps_the_other_purposes():
    visitor_uuid = uuid.uuid4()
    api = api_as(visitor_uuid)
    response = api.patch(URL, {"marketing": True}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "analytics": True,
        "personalization": True,
        "marketing": True,
        "recorded": True,
        "unsubscribed": False,
    }
    api.put(URL, {"analytics": False}, format="json")
    assert Consent.objects.get(visitor_uuid=visitor_uuid).choices == {
        "analytics": False,
        "personalization": True,
        "marketing": True,
    }


def test_personalization_withheld_serves_default_content_in_the_api():
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "dog"})
    api = api_as(visitor.uuid)
    dog_people = str(Segment.objects.get(slug="dog-people").pk)
    assert api_segments(api.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]) == [
        dog_people
    ]
    api.patch(URL, {"personalization": False}, format="json")
    page = api.get("/api/v1/pages/find/", {"path": "/"}).json()
    assert api_segments(page["body"]) == ["default"]
    assert api.get("/api/v1/visitor/").json()["personalized"] is False


def test_analytics_withheld_keeps_only_strictly_necessary_events(run_jobs, staff):
    visitor_uuid = uuid.uuid4()
    api_as(visitor_uuid).patch(URL, {"analytics": False}, format="json")
    with run_jobs():
        browser = api_as(visitor_uuid).post("/api/v1/events/", {"type": "page_view"}, format="json")
        shop = api_as(visitor_uuid, user=staff).post(
            "/api/v1/events/", {"type": "purchase", "properties": {"amount": 1200}}, format="json"
        )
    assert browser.status_code == 202 and shop.status_code == 202
    assert list(Event.objects.values_list("type", flat=True)) == ["purchase"]


def test_a_browser_calling_with_its_cookie_gets_the_consent_cookie_too():
    browser = APIClient()
    browser.get("/")
    response = browser.patch(URL, {"personalization": False}, format="json")
    assert response.status_code == 200
    assert CONSENT_COOKIE in response.cookies
    assert 'class="consent-banner"' not in browser.get("/").content.decode()


def test_a_members_choice_is_kept_against_their_account():
    member = MemberFactory()
    api_as(uuid.uuid4(), user=member).patch(URL, {"marketing": True}, format="json")
    assert Consent.objects.get(user=member).marketing is True
    other_device = api_as(uuid.uuid4(), user=member).get(URL).json()
    assert other_device["marketing"] is True and other_device["recorded"] is True


def test_the_shops_server_speaks_for_the_visitor_of_the_token(staff):
    visitor_uuid = uuid.uuid4()
    response = api_as(visitor_uuid, user=staff).patch(URL, {"marketing": True}, format="json")
    assert response.status_code == 200
    record = Consent.objects.get(visitor_uuid=visitor_uuid)
    assert record.user is None and record.marketing is True
    assert not Consent.objects.filter(user=staff).exists()


def test_an_anonymous_caller_cannot_change_a_members_record():
    member = MemberFactory()
    visitor_uuid = uuid.uuid4()
    Consent.objects.create(visitor_uuid=visitor_uuid, user=member, marketing=True)
    response = api_as(visitor_uuid).patch(URL, {"marketing": False}, format="json")
    assert response.status_code == 403
    assert "log in" in response.json()["detail"]
    assert Consent.objects.get(visitor_uuid=visitor_uuid).marketing is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"marketing": "yes"}, "marketing"),
        ({"analytics": 1}, "analytics"),
        ({"analytics": None}, "analytics"),
        ({"cookies": True}, "cookies"),
        ({}, "non_field_errors"),
        ([True], "non_field_errors"),
        ("marketing", "non_field_errors"),
    ],
)
def test_bad_choices_are_refused_with_the_field_and_change_nothing(body, field):
    visitor_uuid = uuid.uuid4()
    response = api_as(visitor_uuid).patch(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Consent.objects.filter(visitor_uuid=visitor_uuid).exists()


def test_a_body_that_is_not_json_is_refused():
    visitor_uuid = uuid.uuid4()
    response = api_as(visitor_uuid).generic(
        "PATCH", URL, "{marketing: true", content_type="application/json"
    )
    assert response.status_code == 400
    assert not Consent.objects.filter(visitor_uuid=visitor_uuid).exists()
