"""Personalized site pages are `Cache-Control: private`: no shared cache (a CDN, a company
proxy) may keep one visitor's page for another, whatever the page, visitor or device."""

from __future__ import annotations

import pytest
from django.utils.cache import get_max_age

from tests.api.helpers import DESKTOP, IPHONE
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
PAGES = ["/", "/dogs/", "/cats/", "/dogs/choosing-dog-food/"]
PERSONALIZED = ["/", "/dogs/"]  # pages with per-segment blocks or experiments


def assert_private(response) -> None:
    assert response.status_code == 200
    cache_control = response.get("Cache-Control", "")
    assert "private" in cache_control and "public" not in cache_control
    assert get_max_age(response) == 0
    assert "Cookie" in response.get("Vary", "")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("user_agent", [DESKTOP, IPHONE])
def test_a_first_visit_is_private(client, path, user_agent):
    assert_private(client.get(path, HTTP_USER_AGENT=user_agent))


@pytest.mark.parametrize("path", PERSONALIZED)
def test_a_returning_visitors_personalized_page_is_private(client, path):
    client.get("/")
    client.post("/personalization/traits/", {"name": "Mika", "pet": "cat"})
    response = client.get(path)
    assert "pv" not in response.cookies  # nothing set on this answer, and still private
    assert_private(response)


def test_a_members_page_is_private(client):
    client.force_login(MemberFactory(first_name="Hana"))
    client.get("/")
    response = client.get("/")
    assert "Hello, Hana!" in response.content.decode()
    assert_private(response)


def test_the_apis_public_pages_stay_public(client):
    response = client.get("/api/v1/pages/find/", {"path": "/cats/"})
    assert response["Cache-Control"] == "public, max-age=60"
