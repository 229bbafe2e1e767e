"""A member's visitor cookie (or a token naming their visitor) left on a shared computer after
their session ended: the next person reads nothing of the member's and writes nothing into it —
not the declared name or pet, not consent — on the site or through the API. They get a new
anonymous visitor first."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from personalization.consent import consents_for_visitors
from personalization.models import Consent, Visitor
from tests.api.helpers import api_as
from tests.factories import MemberFactory
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db
COOKIE = settings.VISITOR_COOKIE_NAME


@pytest.fixture
def left_behind(client):
    """A member's visitor (name Sora, dog) whose cookie the next person's browser still holds."""
    member = MemberFactory(first_name="Sora")
    visitor = Visitor.objects.create(user=member, traits={"name": "Sora", "pet": "dog"})
    browse_as(client, visitor)
    return visitor


def untouched(visitor: Visitor) -> None:
    """The member's visitor and consent are as they were."""
    visitor.refresh_from_db()
    assert visitor.traits == {"name": "Sora", "pet": "dog"}
    assert not Consent.objects.filter(visitor_uuid=visitor.uuid).exists()
    choices = consents_for_visitors([visitor])[visitor.pk]
    assert choices["marketing"] is False


def rotated(response, visitor: Visitor) -> str:
    """The browser was given a new visitor id; returns it."""
    issued = response.cookies[COOKIE].value.split(":")[0]
    assert issued != str(visitor.uuid)
    return issued


def test_the_traits_form_does_not_rename_the_members_visitor(client, left_behind):
    response = client.post("/personalization/traits/", {"name": "Mallory", "pet": "cat"})
    assert response.status_code == 302
    untouched(left_behind)
    fresh = Visitor.objects.get(uuid=rotated(response, left_behind))
    assert fresh.user_id is None and fresh.traits == {"name": "Mallory", "pet": "cat"}


def test_the_consent_banner_records_nothing_for_the_member(client, left_behind):
    response = client.post("/personalization/consent/", {"choice": "all"})
    assert response.status_code == 302
    untouched(left_behind)
    fresh = rotated(response, left_behind)
    assert Consent.objects.get(visitor_uuid=fresh).marketing is True


def test_a_token_issued_to_that_browser_names_a_new_visitor(client, left_behind):
    api = APIClient()
    api.cookies = client.cookies
    issued = api.post("/api/v1/visitors/")
    assert issued.status_code == 201
    assert issued.json()["visitor"] != str(left_behind.uuid)
    token = issued.json()["visitor_token"]
    consent = api.patch(
        "/api/v1/consent/", {"marketing": True}, format="json", HTTP_X_VISITOR_TOKEN=token
    )
    assert consent.status_code == 200
    traits = api.patch(
        "/api/v1/visitor/", {"name": "Mallory"}, format="json", HTTP_X_VISITOR_TOKEN=token
    )
    assert traits.status_code == 200
    untouched(left_behind)


def test_the_consent_api_with_the_cookie_records_nothing_for_the_member(client, left_behind):
    api = APIClient()
    api.cookies = client.cookies
    response = api.patch("/api/v1/consent/", {"marketing": True}, format="json")
    assert response.status_code == 200
    untouched(left_behind)
    rotated(response, left_behind)


def test_an_old_token_naming_the_members_visitor_writes_nothing_into_it(left_behind):
    api = api_as(left_behind.uuid)
    assert api.patch("/api/v1/consent/", {"marketing": True}, format="json").status_code == 200
    assert api.patch("/api/v1/visitor/", {"name": "Mallory"}, format="json").status_code == 200
    untouched(left_behind)


def test_the_member_logged_in_still_writes_their_own_visitor(client, left_behind):
    client.force_login(left_behind.user)
    client.post("/personalization/traits/", {"name": "Sora-chan", "pet": "dog"})
    client.post("/personalization/consent/", {"choice": "all"})
    left_behind.refresh_from_db()
    assert left_behind.traits["name"] == "Sora-chan"
    assert consents_for_visitors([left_behind])[left_behind.pk]["marketing"] is True


def test_an_old_cookie_of_a_visitor_merged_into_a_members_shows_nothing_of_theirs(client):
    member = MemberFactory(first_name="Sora")
    own = Visitor.objects.create(user=member, traits={"name": "Sora", "pet": "dog"})
    browse_as(client, Visitor.objects.create(merged_into=own))
    assert "Sora" not in client.get("/").content.decode()
    client.post("/personalization/traits/", {"name": "Mallory", "pet": "cat"})
    own.refresh_from_db()
    assert own.traits == {"name": "Sora", "pet": "dog"}
