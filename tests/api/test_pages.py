"""Pages through the API: listing and filters, one page by id or path with its body resolved for
the visitor (images, rich text, links), and cache headers that match what depends on whom."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from wagtail.models import Page

from cms.models import ContentPage, HomePage, SectionPage
from personalization.models import Segment, Visitor
from tests.api.helpers import api_as, api_segments, walk_blocks

pytestmark = pytest.mark.django_db


def test_the_listing_shows_live_pages_without_bodies_and_paginates(client):
    response = client.get("/api/v1/pages/", {"limit": 3})
    assert response.status_code == 200
    listing = response.json()
    assert listing["count"] == 20  # home, three public sections, ten articles, six products
    assert len(listing["results"]) == 3 and listing["next"]
    first = listing["results"][0]
    assert first["type"] == "cms.HomePage" and first["url"] == "/"
    assert "body" not in first and first["detail_url"] == f"/api/v1/pages/{first['id']}/"


@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({"type": "cms.SectionPage"}, {"Dogs", "Cats", "Shop"}),
        (
            {"section": "cats"},
            {
                "Cats",
                "Indoor cat enrichment",
                "A guide to grain-free cat food",
                "Litter that works",
                "Moving house with a cat",
                "Helping your cat drink more water",
            },
        ),
        ({"section": "nowhere"}, set()),
    ],
)
def test_the_listing_filters_by_type_and_section(client, params, titles):
    results = client.get("/api/v1/pages/", {**params, "limit": 100}).json()["results"]
    assert {r["title"] for r in results} == titles


def test_the_listing_filters_by_parent(client):
    dogs = SectionPage.objects.get(slug="dogs")
    results = client.get("/api/v1/pages/", {"parent": dogs.pk}).json()["results"]
    assert {r["title"] for r in results} == {
        "Choosing the right dog food",
        "Summer walks: paw care",
        "Puppy starter kit",
        "The first week with a rescue dog",
        "Caring for a senior dog",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "cms.Nope"}, "type"),
        ({"parent": "abc"}, "parent"),
        ({"parent": "0"}, "parent"),
        ({"section": "not a slug!"}, "section"),
    ],
)
def test_bad_listing_filters_are_400_naming_the_parameter(client, params, field):
    response = client.get("/api/v1/pages/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_page_by_id_and_by_path_are_the_same_document(client):
    article = ContentPage.objects.get(slug="choosing-dog-food")
    by_id = client.get(f"/api/v1/pages/{article.pk}/").json()
    by_path = client.get("/api/v1/pages/find/", {"path": "/dogs/choosing-dog-food/"}).json()
    assert by_id == by_path
    assert by_id["title"] == "Choosing the right dog food"
    assert by_id["parent"] == SectionPage.objects.get(slug="dogs").pk
    assert by_id["tags"] == ["food", "dog"]


def test_rich_text_is_expanded_html_and_quotes_keep_their_fields(client):
    body = client.get("/api/v1/pages/find/", {"path": "/dogs/choosing-dog-food/"}).json()["body"]
    types = [block["type"] for block in body]
    assert types == ["heading", "paragraph", "quote"]
    assert "<b>life-stage</b>" in body[1]["value"]
    assert body[2]["value"] == {
        "quote": "Switching gradually over a week solved Momo's upset tummy.",
        "attribution": "Aiko, member since 2021",
    }


def test_internal_links_in_rich_text_are_resolved_to_urls(client):
    article = ContentPage.objects.get(slug="litter-that-works")
    cats = SectionPage.objects.get(slug="cats")
    article.body = [("paragraph", f'<p>See <a linktype="page" id="{cats.pk}">cats</a>.</p>')]
    article.save_revision().publish()
    body = client.get(f"/api/v1/pages/{article.pk}/").json()["body"]
    assert body[0]["value"] == '<p>See <a href="/cats/">cats</a>.</p>'


def test_image_blocks_give_rendition_urls_and_alt_text(client):
    dog_people = Segment.objects.get(slug="dog-people")
    visitor = Visitor.objects.create(traits={"pet": "dog", "name": "Mika"})
    body = api_as(visitor.uuid).get("/api/v1/pages/find/", {"path": "/dogs/"}).json()["body"]
    personalized = body[0]
    assert personalized["chosen"] == {"segment": dog_people.pk}
    image = personalized["value"][0]["value"]
    assert image["caption"] == "For you and your dog"
    assert image["image"]["alt"] == "A happy dog"
    widths = [r["width"] for r in image["image"]["renditions"]]
    assert widths == [480, 960, 1440]
    assert all(
        r["url"].startswith("http://testserver/media/images/") for r in image["image"]["renditions"]
    )


def test_the_home_hero_links_to_the_members_section(client):
    hero = client.get("/api/v1/pages/find/", {"path": "/"}).json()["hero"]
    assert hero["cta_page"]["url"] == "/members/"
    assert hero["title"] in {
        "Everything your pet loves, picked for you",
        "Food, care and play your pet will love",
    }


def test_a_section_lists_its_public_children(client):
    document = client.get("/api/v1/pages/find/", {"path": "/cats/"}).json()
    assert [c["title"] for c in document["children"]] == [
        "Indoor cat enrichment",
        "A guide to grain-free cat food",
        "Litter that works",
        "Moving house with a cat",
        "Helping your cat drink more water",
    ]
    assert document["children"][0]["image"]["renditions"]


def test_the_greeting_and_profile_form_are_resolved_for_the_visitor(client):
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "cat"})
    body = api_as(visitor.uuid).get("/api/v1/pages/find/", {"path": "/"}).json()["body"]
    by_type = {block["type"]: block for block in body}
    greeting = by_type["greeting"]["value"]
    assert greeting["text"] == "Hello, Mika!" and greeting["pet"] == "cat"  # a first visit
    assert "demo-cats" in greeting["image"]["renditions"][0]["url"]
    form = by_type["profile_form"]["value"]
    assert form["answered"] is True
    assert [f["name"] for f in form["fields"]] == ["name", "pet"]
    assert {"value": "dog", "label": "Dog"} in form["fields"][1]["choices"]


def test_an_offer_shows_until_capped_then_its_fallback(client):
    visitor = Visitor.objects.create()
    api = api_as(visitor.uuid)
    offer = next(
        b
        for b in api.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]
        if b["type"] == "offer"
    )
    assert offer["chosen"] == {"offer": "litter-free-shipping", "capped": False}
    assert offer["value"]["title"] == "Free shipping on litter"
    assert offer["value"]["link"]["url"] == "/cats/litter-that-works/"
    assert "fallback" not in offer["value"] and "cap" not in offer["value"]
    visitor.offer_impressions = {
        "litter-free-shipping": {"day": timezone.localdate().isoformat(), "day_count": 3}
    }
    visitor.save()
    capped = next(
        b
        for b in api.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]
        if b["type"] == "offer"
    )
    assert capped["chosen"]["capped"] is True
    assert capped["value"][0]["value"] == "<p>Members save on litter every month.</p>"


def test_personalized_pages_are_private_and_vary_on_identity(client):
    response = api_as(uuid.uuid4()).get("/api/v1/pages/find/", {"path": "/"})
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    vary = response["Vary"]
    for header in ("Cookie", "X-Visitor-Token", "Authorization", "X-Page-Url"):
        assert header in vary
    assert response.json()["meta"]["personalized"] is True


def test_a_page_the_same_for_everyone_is_public_with_an_etag_and_no_cookie(client):
    response = client.get("/api/v1/pages/find/", {"path": "/cats/litter-that-works/"})
    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert response.json()["meta"] == {
        "personalized": False,
        "preview": False,
        "segments": [],
        "experiments": [],
        "blocks": [],
    }
    assert not response.cookies  # a shared cache must never store a visitor's cookie
    again = client.get(
        "/api/v1/pages/find/",
        {"path": "/cats/litter-that-works/"},
        HTTP_IF_NONE_MATCH=response["ETag"],
    )
    assert again.status_code == 304 and not again.content


def test_meta_lists_only_the_segments_this_page_uses(client):
    visitor = Visitor.objects.create(traits={"pet": "dog"})
    api = api_as(visitor.uuid, HTTP_X_PAGE_URL="https://app.example/?utm_source=newsletter")
    meta = api.get("/api/v1/pages/find/", {"path": "/dogs/"}).json()["meta"]
    assert [s["slug"] for s in meta["segments"]] == ["dog-people"]  # not newsletter-readers
    home = api.get("/api/v1/pages/find/", {"path": "/"}).json()
    assert [s["slug"] for s in home["meta"]["segments"]] == ["newsletter-readers", "dog-people"]
    assert api_segments(home["body"]) == [str(Segment.objects.get(slug="newsletter-readers").pk)]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/pages/999999/",
        "/api/v1/pages/99999999999999999999999/",
        "/api/v1/pages/0/",
        "/api/v1/pages/find/?path=/no/such/page/",
    ],
)
def test_unknown_pages_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["", "dogs/", "x" * 3000, "/\x00/"])
def test_a_bad_path_is_400_naming_it(client, path):
    response = client.get("/api/v1/pages/find/", {"path": path})
    assert response.status_code == 400
    assert "path" in response.json()


def test_draft_pages_are_not_served(client):
    article = ContentPage.objects.get(slug="puppy-starter-kit")
    article.unpublish()
    assert client.get(f"/api/v1/pages/{article.pk}/").status_code == 404
    assert (
        client.get("/api/v1/pages/find/", {"path": "/dogs/puppy-starter-kit/"}).status_code == 404
    )


def test_every_block_of_every_demo_page_serializes(client):
    for page in Page.objects.live().type(HomePage, SectionPage, ContentPage):
        response = api_as(uuid.uuid4()).get(f"/api/v1/pages/{page.pk}/")
        assert response.status_code in (200, 401)
        if response.status_code == 200:
            assert all("type" in block for block in walk_blocks(response.json()["body"]))
