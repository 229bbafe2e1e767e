"""A public section (Cats) with one child under each kind of Wagtail view restriction, and the
ways a person passes them (log in, join the group, enter the password): shared by the site's and
the API's tests of what a section lists."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from wagtail.models import PageViewRestriction

from cms.models import ContentPage, SectionPage
from tests.factories import MemberFactory

PUBLIC_CATS = [
    "Indoor cat enrichment",
    "A guide to grain-free cat food",
    "Litter that works",
    "Moving house with a cat",
    "Helping your cat drink more water",
]
MEMBERS_CATS = "Cat club for members"
VET_TEAM_CATS = "Vet team case notes"
PASSWORD_CATS = "Breeders' price list"
PASSWORD = "whiskers-2026"
MEMBERS_SECTION = ["Member offers this month", "Ask our vet"]
CARD_TITLE = re.compile(r'<span class="card-title">([^<]*)</span>')


@dataclass
class RestrictedCats:
    """The Cats section with its three restricted children and what guards them."""

    section: SectionPage
    vet_team: Group
    password_restriction: PageViewRestriction
    password_page: ContentPage


def _publish_cat_page(section: SectionPage, title: str) -> ContentPage:
    page = ContentPage(title=title, slug=re.sub(r"[^a-z]+", "-", title.lower()).strip("-"))
    section.add_child(instance=page)
    page.save_revision().publish()
    return page


def restricted_cats() -> RestrictedCats:
    """Add to Cats a members-only, a vet-team-only and a password-protected child page."""
    section = SectionPage.objects.get(slug="cats")
    members_page = _publish_cat_page(section, MEMBERS_CATS)
    PageViewRestriction.objects.create(
        page=members_page, restriction_type=PageViewRestriction.LOGIN
    )
    vet_team = Group.objects.create(name="Vet team")
    vet_page = _publish_cat_page(section, VET_TEAM_CATS)
    restriction = PageViewRestriction.objects.create(
        page=vet_page, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(vet_team)
    password_page = _publish_cat_page(section, PASSWORD_CATS)
    password_restriction = PageViewRestriction.objects.create(
        page=password_page, restriction_type=PageViewRestriction.PASSWORD, password=PASSWORD
    )
    return RestrictedCats(section, vet_team, password_restriction, password_page)


def viewer(kind: str, cats: RestrictedCats) -> Client:
    """A browser session of an `anonymous` visitor, a `member`, a member of the vet team
    (`vet`), or an anonymous visitor who entered the price list's password (`password`)."""
    client = Client()
    if kind in ("member", "vet"):
        member = MemberFactory()
        if kind == "vet":
            member.groups.add(cats.vet_team)
        client.force_login(member)
    if kind == "password":
        url = reverse(
            "wagtailcore_authenticate_with_password",
            args=[cats.password_restriction.pk, cats.password_page.pk],
        )
        response = client.post(url, {"password": PASSWORD, "return_url": "/cats/"})
        assert response.status_code == 302, "the password form refused the password"
    return client


def site_listing(client: Client, path: str) -> list[str]:
    """The titles a section page on the site lists, in order."""
    response = client.get(path)
    assert response.status_code == 200
    return [html.unescape(title) for title in CARD_TITLE.findall(response.content.decode())]


def api_listing(client: Client, path: str) -> list[str]:
    """The titles of a section's `children` in the API, in order."""
    response = client.get("/api/v1/pages/find/", {"path": path})
    assert response.status_code == 200
    return [child["title"] for child in response.json()["children"]]
