"""What a section lists on the site: its live children the visitor may see, by Wagtail's view
restrictions (log-in, groups, password), not only the pages public to everyone."""

from __future__ import annotations

import pytest

from tests.cms.restricted_children import (
    MEMBERS_CATS,
    MEMBERS_SECTION,
    PASSWORD_CATS,
    PUBLIC_CATS,
    VET_TEAM_CATS,
    restricted_cats,
    site_listing,
    viewer,
)

pytestmark = pytest.mark.django_db


def test_a_member_sees_the_members_sections_pages(member_client):
    response = member_client.get("/members/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing here yet" not in html
    assert site_listing(member_client, "/members/") == MEMBERS_SECTION


def test_an_anonymous_visitor_is_asked_to_log_in_for_the_members_section(client):
    response = client.get("/members/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/members/"


@pytest.mark.parametrize(
    ("kind", "titles"),
    [
        ("anonymous", PUBLIC_CATS),
        ("member", [*PUBLIC_CATS, MEMBERS_CATS]),
        ("vet", [*PUBLIC_CATS, MEMBERS_CATS, VET_TEAM_CATS]),
        ("password", [*PUBLIC_CATS, PASSWORD_CATS]),
    ],
)
def test_a_section_lists_the_children_the_visitor_may_see(kind, titles):
    cats = restricted_cats()
    assert site_listing(viewer(kind, cats), "/cats/") == titles
