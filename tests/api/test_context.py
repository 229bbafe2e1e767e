"""The request context of headless calls: the landing URL, referrer and user agent the frontend
reports move exactly the rules a browser could move, and bad values are 400 naming them."""

from __future__ import annotations

import uuid

import pytest

from personalization.models import Consent, Segment, Visitor
from tests.api.helpers import DESKTOP, IPHONE, api_as, api_segments

pytestmark = pytest.mark.django_db


def home_segments(api, **params) -> list[str]:
    response = api.get("/api/v1/pages/find/", {"path": "/", **params})
    assert response.status_code == 200, response.content
    return api_segments(response.json()["body"])


def slug_pk(slug: str) -> str:
    return str(Segment.objects.get(slug=slug).pk)


def test_utm_of_the_landing_url_by_header_or_parameter():
    landing = "https://app.example/spring?utm_source=newsletter"
    by_header = api_as(uuid.uuid4(), HTTP_X_PAGE_URL=landing)
    assert home_segments(by_header) == [slug_pk("newsletter-readers")]
    assert home_segments(api_as(uuid.uuid4()), page_url=landing) == [slug_pk("newsletter-readers")]
    assert home_segments(api_as(uuid.uuid4()), page_url="/?utm_source=newsletter") == [
        slug_pk("newsletter-readers")
    ]


def test_utm_on_the_api_call_itself_is_not_the_visitors_landing_url():
    api = api_as(uuid.uuid4())
    assert home_segments(api, utm_source="newsletter") == ["default"]


def test_the_device_comes_from_the_reported_user_agent_else_the_callers_own():
    mobile = slug_pk("mobile-visitors")
    reported = api_as(uuid.uuid4(), HTTP_X_VISITOR_USER_AGENT=IPHONE)
    assert home_segments(reported) == [mobile]
    assert home_segments(api_as(uuid.uuid4()), user_agent=IPHONE) == [mobile]
    browser = api_as(uuid.uuid4(), HTTP_USER_AGENT=IPHONE)  # a browser calling the API directly
    assert home_segments(browser) == [mobile]
    server = api_as(uuid.uuid4(), HTTP_USER_AGENT=IPHONE, HTTP_X_VISITOR_USER_AGENT=DESKTOP)
    assert home_segments(server) == ["default"]


def test_the_reported_referrer_and_the_pages_own_path_reach_segment_rules():
    search = Segment.objects.create(
        name="From search", slug="from-search", priority=95,
        condition={"referrer_host": "www.google.com"},
    )  # fmt: skip
    cat_pages = Segment.objects.create(
        name="On cat pages", slug="on-cat-pages", priority=96,
        condition={"path": {"$regex": "^/cats/"}},
    )  # fmt: skip
    me = api_as(uuid.uuid4(), HTTP_X_REFERRER="https://www.google.com/search?q=litter")
    slugs = [s["slug"] for s in me.get("/api/v1/visitor/").json()["segments"]]
    assert slugs == [search.slug]
    on_cats = api_as(uuid.uuid4(), HTTP_X_PAGE_URL="https://app.example/anything")
    meta = on_cats.get("/api/v1/pages/find/", {"path": "/cats/"}).json()
    assert meta["url"] == "/cats/"
    visitor = on_cats.get("/api/v1/visitor/", {"page_url": "/cats/litter-that-works/"}).json()
    assert [s["slug"] for s in visitor["segments"]] == [cat_pages.slug]


@pytest.mark.parametrize(
    ("params", "headers", "name"),
    [
        ({"page_url": "javascript:alert(1)"}, {}, "page_url"),
        ({"page_url": "//evil.example/"}, {}, "page_url"),
        ({"page_url": "http://[::1/"}, {}, "page_url"),
        ({"page_url": "https://x.example/" + "a" * 3000}, {}, "page_url"),
        ({}, {"HTTP_X_PAGE_URL": "not a url"}, "X-Page-Url"),
        ({"referrer": "ftp://files.example/"}, {}, "referrer"),
        ({}, {"HTTP_X_REFERRER": "http://host:99999/"}, "X-Referrer"),
    ],
)
def test_bad_reported_context_is_400_naming_the_parameter(params, headers, name):
    response = api_as(uuid.uuid4(), **headers).get("/api/v1/pages/find/", {"path": "/", **params})
    assert response.status_code == 400
    assert name in response.json()


def test_an_overlong_user_agent_is_clipped_not_refused():
    api = api_as(uuid.uuid4(), HTTP_X_VISITOR_USER_AGENT="Mozilla/5.0 " + "x" * 20000)
    assert api.get("/api/v1/pages/find/", {"path": "/"}).status_code == 200


def test_an_apps_stored_consent_applies_without_a_consent_cookie():
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "dog"})
    assert home_segments(api_as(visitor.uuid)) == [slug_pk("dog-people")]
    Consent.objects.create(visitor_uuid=visitor.uuid, personalization=False)
    response = api_as(visitor.uuid).get("/api/v1/pages/find/", {"path": "/"}).json()
    assert api_segments(response["body"]) == ["default"]
    assert response["body"][0]["value"]["text"] == "Welcome to Pawprint Club"  # no name either
