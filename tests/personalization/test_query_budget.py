"""SQL per personalized request does not grow with the number of segments, and stays within
two queries of the same page served without personalization."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.images import get_image_model

from cms.models import ContentPage, SectionPage
from personalization.models import Segment
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
PARAGRAPH = {"type": "paragraph", "value": "<p>Everyone reads this.</p>"}


@pytest.fixture(autouse=True)
def rendered_every_time(settings):
    """These budgets are of rendering a page (what a render-cache miss costs); a cache hit's
    own budget is tested in tests/cms/test_render_cache.py."""
    settings.RENDER_CACHE_ENABLED = False


def make_segments(count: int) -> list[Segment]:
    segments = [
        Segment(
            name=f"Budget segment {i}",
            slug=f"budget-{i}",
            priority=i,
            condition={
                "$and": [
                    {"age": {"$gte": 20 + i % 30}},
                    {"region": "tokyo"},
                    {"views.section.dogs": {"$gte": i % 5}},
                ]
            },
        )
        for i in range(count)
    ]
    Segment.objects.bulk_create(segments)
    Segment.objects.filter(slug="budget-0").first().save()  # bumps the version, as the admin does
    return list(Segment.objects.filter(slug__startswith="budget-"))


def publish(slug: str, body: list[dict]) -> str:
    parent = SectionPage.objects.get(slug="cats")
    page = ContentPage(title=slug, slug=slug, intro="", body=body)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page.url


def personalized_body(segments: list[Segment]) -> list[dict]:
    variants = [
        {"segment": str(s.pk), "content": [{"type": "paragraph", "value": f"<p>For {s.name}</p>"}]}
        for s in segments
    ]
    default = [{"type": "paragraph", "value": "<p>Default</p>"}]
    return [
        PARAGRAPH,
        {"type": "personalized", "value": {"variants": variants, "default": default}},
    ]


def queries_for(client, url: str) -> int:
    client.get(url)  # warm: compiled segments, session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture(params=["anonymous", "member"])
def browsing_client(request, client):
    if request.param == "member":
        client.force_login(MemberFactory())
    return client


def test_queries_do_not_grow_from_10_to_200_segments(browsing_client):
    ten = queries_for(browsing_client, publish("budget-ten", personalized_body(make_segments(10))))
    Segment.objects.bulk_create(
        [
            Segment(name=f"More {i}", slug=f"more-{i}", condition={"tier": "gold"})
            for i in range(190)
        ]
    )
    two_hundred = personalized_body(list(Segment.objects.all()))
    Segment.objects.first().save()
    assert Segment.objects.count() >= 200
    assert queries_for(browsing_client, publish("budget-200", two_hundred)) == ten


def test_personalized_page_costs_at_most_two_queries_more_than_plain(
    browsing_client, django_assert_max_num_queries
):
    segments = make_segments(200)
    plain = queries_for(browsing_client, publish("plain-page", [PARAGRAPH]))
    personalized = publish("personalized-page", personalized_body(segments))
    browsing_client.get(personalized)  # warm
    with django_assert_max_num_queries(plain + 2):
        response = browsing_client.get(personalized)
    assert response.status_code == 200
    assert 'class="personalized"' in response.content.decode()


def fetched_ids(captured, table: str) -> set[int]:
    """The primary keys of `table` read by `id IN (…)` (how Wagtail fetches chosen images and
    pages for blocks) among the captured queries."""
    fetched = set()
    for query in captured:
        found = re.search(rf'FROM "{table}".*"id" IN \(([^)]*)\)', query["sql"])
        if found:
            fetched |= {int(pk) for pk in found.group(1).split(",")}
    return fetched


def captured_get(client, url: str):
    client.get(url)  # warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, captured


def test_only_the_shown_variants_blocks_are_read(client):
    """Ten variants with an image each and a default with another: a visitor in none of the
    segments gets the default, and only the default's image is fetched (Wagtail would convert
    every variant's blocks, fetching all eleven images)."""
    images = list(get_image_model().objects.order_by("pk")[:11])
    assert len(images) == 11

    def picture(image) -> list[dict]:
        return [{"type": "image", "value": {"image": image.pk, "alt_text": "", "caption": ""}}]

    variants = [
        {"segment": str(segment.pk), "content": picture(image)}
        for segment, image in zip(make_segments(10), images[1:], strict=True)
    ]
    url = publish(
        "one-of-eleven",
        [{"type": "personalized", "value": {"variants": variants, "default": picture(images[0])}}],
    )
    response, captured = captured_get(client, url)
    assert response.context["page"].body[0].value  # the block was rendered
    assert fetched_ids(captured, "wagtailimages_image") == {images[0].pk}


def test_an_offer_not_yet_capped_does_not_read_its_fallback(client):
    """The fallback's button links a page; while the offer itself is shown, that page is not
    fetched (Wagtail would convert the fallback's blocks with the offer's)."""
    target = SectionPage.objects.get(slug="dogs")
    fallback = {
        "type": "call_to_action",
        "value": {
            "title": "Members save",
            "text": "",
            "button_label": "Join",
            "link": {"page": target.pk, "url": ""},
        },
    }
    offer = {
        "offer_key": "budget-offer",
        "title": "Free shipping",
        "text": "",
        "image": None,
        "button_label": "See the offer",
        "link": {"page": None, "url": "https://example.com/offer"},
        "cap": 100,
        "cap_period": "day",
        "fallback": [fallback],
    }
    response, captured = captured_get(
        client, publish("offer-page", [{"type": "offer", "value": offer}])
    )
    assert 'data-offer="budget-offer"' in response.content.decode()
    assert "Members save" not in response.content.decode()
    assert target.pk not in fetched_ids(captured, "wagtailcore_page")
