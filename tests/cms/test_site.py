"""The demo member site as a visitor meets it: pages, navigation, renditions and privacy."""

from __future__ import annotations

import pytest
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction

from cms.models import ContentPage, HomePage, SectionPage

pytestmark = pytest.mark.django_db


def test_home_page_shows_hero_navigation_and_join_link(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    # The home hero is under a running A/B test: either headline is the home page's.
    assert "Everything your pet loves" in html or "Food, care and play your pet will love" in html
    for section in ("Dogs", "Cats", "Members"):
        assert f">{section}</a>" in html
    assert "/account/signup/" in html
    assert "/static/css/site.css" in html


def test_section_lists_its_live_children_with_responsive_images(client):
    response = client.get("/dogs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choosing the right dog food" in html
    assert "Puppy starter kit" in html
    assert 'srcset="' in html and "/media/images/" in html


def test_content_page_renders_every_block_type(client):
    response = client.get("/dogs/choosing-dog-food/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>Start with life stage</h2>" in html
    assert "<b>life-stage</b>" in html
    assert 'class="quote"' in html and "Aiko, member since 2021" in html


def test_members_area_redirects_anonymous_visitors_to_log_in(client):
    response = client.get("/members/member-offers/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/members/member-offers/"
    assert "10% off" not in response.content.decode()


def test_members_area_shows_to_a_logged_in_member(member_client):
    response = member_client.get("/members/member-offers/")
    assert response.status_code == 200
    assert "10% off all life-stage dog food" in response.content.decode()


def test_members_section_is_protected_by_wagtail_privacy():
    members = SectionPage.objects.get(slug="members")
    restriction = PageViewRestriction.objects.get(page=members)
    assert restriction.restriction_type == PageViewRestriction.LOGIN


def test_logging_in_from_the_redirect_lands_on_the_members_page(client, member):
    response = client.post(
        "/account/login/?next=/members/member-offers/",
        {
            "username": member.username,
            "password": "correct-horse-battery",
            "next": "/members/member-offers/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/members/member-offers/"
    assert client.get("/members/member-offers/").status_code == 200


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_demo_tree_has_home_two_sections_and_six_plus_pages():
    assert HomePage.objects.count() == 1
    assert SectionPage.objects.filter(slug__in=["dogs", "cats"]).count() == 2
    assert ContentPage.objects.live().count() >= 6
    assert get_image_model().objects.filter(title__startswith="Demo:").count() >= 10
