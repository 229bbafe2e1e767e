"""The site and the API choose the same content for the same visitor: for every demo page and
each demo visitor profile, the segment each per-segment block chose (the site's data-segment),
the A/B variants, the home hero (a page-level test) and the greeting agree."""

from __future__ import annotations

import datetime
import html
import re
import uuid
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from cms.demo.pages import DEMO_PAGES
from cms.models import ContentPage, HomePage, SectionPage
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_ingest
from personalization.models import Visitor
from tests.api.helpers import (
    DESKTOP,
    IPHONE,
    api_as,
    api_segments,
    api_variants,
    site_segments,
    site_variants,
)
from tests.factories import MemberProfileFactory, UserFactory
from tests.personalization.helpers import signed_visitor_cookie

pytestmark = pytest.mark.django_db
HERO = re.compile(r'<section class="hero">.*?<h1>(.*?)</h1>', re.S)
GREETING = re.compile(r'<p class="greeting-text">(.*?)</p>', re.S)
LANDING = "https://app.example/welcome?utm_source=newsletter&utm_medium=email"


@dataclass
class Profile:
    """How one visitor reaches the site (query, headers) and the API (its headers)."""

    visitor_uuid: uuid.UUID
    user: object = None
    site_query: str = ""
    site_headers: dict = field(default_factory=dict)
    api_headers: dict = field(default_factory=dict)


def anonymous() -> Profile:
    return Profile(uuid.uuid4())


def newsletter_reader() -> Profile:
    return Profile(
        uuid.uuid4(),
        site_query="utm_source=newsletter&utm_medium=email",
        api_headers={"HTTP_X_PAGE_URL": LANDING},
    )


def mobile_visitor() -> Profile:
    return Profile(
        uuid.uuid4(),
        site_headers={"HTTP_USER_AGENT": IPHONE},
        api_headers={"HTTP_X_VISITOR_USER_AGENT": IPHONE},
    )


def tokyo_member() -> Profile:
    user = UserFactory()
    MemberProfileFactory(
        user=user, gender="male", region="tokyo", pet_type="none",
        birth_date=datetime.date(1980, 1, 1),
    )  # fmt: skip
    return Profile(uuid.uuid4(), user=user)


def dog_owner() -> Profile:
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "dog"})
    return Profile(visitor.uuid)


def big_spender() -> Profile:
    visitor = Visitor.objects.create()
    for days_ago, amount in ((200, 18000), (150, 12500)):
        events_ingest(
            payloads=[
                event_payload(
                    visitor_uuid=visitor.uuid,
                    type=EventType.PURCHASE,
                    properties={"amount": amount, "category": "dog-food"},
                    occurred_at=timezone.now() - datetime.timedelta(days=days_ago),
                )
            ]
        )
    return Profile(visitor.uuid)


def visitor_abroad() -> Profile:
    return Profile(
        uuid.uuid4(),
        site_headers={"HTTP_CF_IPCOUNTRY": "US"},
        api_headers={"HTTP_CF_IPCOUNTRY": "US"},  # from 127.0.0.1: a trusted proxy by default
    )


PROFILES = [
    anonymous, newsletter_reader, mobile_visitor, tokyo_member, dog_owner, big_spender,
    visitor_abroad,
]  # fmt: skip


def site_view(profile: Profile, page: Page):
    client = Client(HTTP_USER_AGENT=DESKTOP)
    client.cookies["pv"] = signed_visitor_cookie(profile.visitor_uuid)
    if profile.user is not None:
        client.force_login(profile.user)
    url = page.url + (f"?{profile.site_query}" if profile.site_query else "")
    return client.get(url, **profile.site_headers)


def api_view(profile: Profile, page: Page):
    api = api_as(profile.visitor_uuid, user=profile.user, **profile.api_headers)
    return api.get("/api/v1/pages/find/", {"path": page.url})


def first(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.search(text)
    return html.unescape(found.group(1).strip()) if found else None


def assert_same_choices(html_text: str, document: dict) -> None:
    body = document["body"]
    assert api_segments(body) == site_segments(html_text)
    assert api_variants(body) == site_variants(html_text)
    if document["hero"] is not None:
        assert document["hero"]["title"] == first(HERO, html_text)
    greetings = [b["value"]["text"] for b in body if b["type"] == "greeting"]
    assert greetings == ([first(GREETING, html_text)] if GREETING.search(html_text) else [])


@pytest.mark.parametrize("make_profile", PROFILES, ids=lambda f: f.__name__)
def test_site_and_api_choose_the_same_content_on_every_demo_page(make_profile):
    profile = make_profile()
    pages = Page.objects.live().type(HomePage, SectionPage, ContentPage).specific()
    assert pages.count() == len(DEMO_PAGES) + 1  # and the home page
    for page in pages:
        site, api = site_view(profile, page), api_view(profile, page)
        if site.status_code == 302:  # members-only: the site asks to log in
            assert "/account/login/" in site["Location"]
            assert api.status_code == 401, page.url
            continue
        assert site.status_code == 200 and api.status_code == 200, page.url
        assert_same_choices(site.content.decode(), api.json())


def test_the_profiles_reach_different_segments_on_the_home_page():
    """The parity above is not trivial: the profiles see different home messages."""
    home = HomePage.objects.get()
    chosen = {maker.__name__: api_segments(api_view(maker(), home).json()["body"]) for maker in
              PROFILES}  # fmt: skip
    assert len({tuple(v) for v in chosen.values()}) == len(PROFILES)
