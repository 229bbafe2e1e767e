"""A section's `children` in the API: the live children the caller may see, by the same rule
(and the same selector) as the site's section page; private when they depend on the caller."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import api_as
from tests.cms.restricted_children import (
    MEMBERS_CATS,
    MEMBERS_SECTION,
    PASSWORD_CATS,
    PUBLIC_CATS,
    VET_TEAM_CATS,
    api_listing,
    restricted_cats,
    site_listing,
    viewer,
)
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_a_member_gets_the_members_sections_children_by_session_and_by_token():
    member = MemberFactory()
    session = APIClient()
    session.force_login(member)
    assert api_listing(session, "/members/") == MEMBERS_SECTION
    by_token = api_as(uuid.uuid4(), user=member)
    assert api_listing(by_token, "/members/") == MEMBERS_SECTION


def test_an_anonymous_caller_gets_no_members_section_at_all():
    response = api_as(uuid.uuid4()).get("/api/v1/pages/find/", {"path": "/members/"})
    assert response.status_code == 401
    assert "Member offers" not in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "titles"),
    [
        ("anonymous", PUBLIC_CATS),
        ("member", [*PUBLIC_CATS, MEMBERS_CATS]),
        ("vet", [*PUBLIC_CATS, MEMBERS_CATS, VET_TEAM_CATS]),
        ("password", [*PUBLIC_CATS, PASSWORD_CATS]),
    ],
)
def test_the_api_lists_the_children_the_caller_may_see_as_the_site_does(kind, titles):
    cats = restricted_cats()
    client = viewer(kind, cats)
    assert api_listing(client, "/cats/") == titles
    assert site_listing(client, "/cats/") == titles


def test_a_listing_is_public_until_a_child_is_restricted_then_private(client):
    before = client.get("/api/v1/pages/find/", {"path": "/cats/"})
    assert "public" in before["Cache-Control"]  # the same for everyone
    restricted_cats()
    after = client.get("/api/v1/pages/find/", {"path": "/cats/"})
    assert after.status_code == 200
    assert after.json()["meta"]["personalized"] is False
    assert "public" not in after["Cache-Control"]
    assert "private" in after["Cache-Control"]
