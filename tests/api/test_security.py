"""Security boundaries of the API: members-only pages, forged and expired tokens, no client choice
of segment or variant, what client-reported context can move, staff-only endpoints, CSRF."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from freezegun import freeze_time
from rest_framework.test import APIClient
from wagtail.models import Page

from cms.models import SectionPage
from personalization.api.authentication import visitor_token_issue
from personalization.models import Segment, Visitor
from tests.api.helpers import api_as, api_segments, api_variants
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def members_pages() -> list[Page]:
    members = SectionPage.objects.get(slug="members")
    return list(Page.objects.descendant_of(members, inclusive=True).specific())


def secret_words() -> list[str]:
    """Text that appears only on members-only pages."""
    return [
        "Thank you for being a member",
        "Member offers this month",
        "10% off all life-stage dog food",
        "Ask our vet",
        "partner vet answers",
        "Offers and advice for club members only",
    ]


def assert_no_secret(response) -> None:
    text = response.content.decode()
    for words in secret_words():
        assert words not in text


# MEMBERS-ONLY PAGES
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2])
def test_members_only_pages_are_401_for_anonymous_callers_and_leak_nothing(index):
    page = members_pages()[index]
    api = api_as(uuid.uuid4())
    for response in (
        api.get(f"/api/v1/pages/{page.pk}/"),
        api.get("/api/v1/pages/find/", {"path": page.url}),
    ):
        assert response.status_code == 401
        assert set(response.json()) == {"detail"}
        assert "private" in response["Cache-Control"]
        assert_no_secret(response)


def test_listings_never_show_members_only_pages_to_anonymous_callers():
    api = api_as(uuid.uuid4())
    members = SectionPage.objects.get(slug="members")
    for params in ({"limit": 100}, {"section": "members"}, {"parent": members.pk},
                   {"type": "cms.ContentPage", "limit": 100}):  # fmt: skip
        response = api.get("/api/v1/pages/", params)
        assert response.status_code == 200
        ids = {r["id"] for r in response.json()["results"]}
        assert not ids & {p.pk for p in members_pages()}
        assert_no_secret(response)


def test_a_member_reads_members_only_pages_by_session_or_token():
    member = MemberFactory()
    page = members_pages()[1]
    by_token = api_as(uuid.uuid4(), user=member).get(f"/api/v1/pages/{page.pk}/")
    assert by_token.status_code == 200 and by_token.json()["title"] == page.title
    session = APIClient()
    session.force_login(member)
    assert session.get(f"/api/v1/pages/{page.pk}/").status_code == 200
    listing = session.get("/api/v1/pages/", {"section": "members"}).json()
    assert {r["id"] for r in listing["results"]} == {p.pk for p in members_pages()}


def test_a_members_only_page_is_never_publicly_cacheable():
    member = MemberFactory()
    page = members_pages()[2]  # no personalized blocks: only the restriction makes it private
    response = api_as(uuid.uuid4(), user=member).get(f"/api/v1/pages/{page.pk}/")
    assert response.status_code == 200
    assert "public" not in response["Cache-Control"]


# TOKENS
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        "eyJ2IjoiMDAwIn0:1vxyzA:not-a-real-signature",
        visitor_token_issue(uuid.uuid4()).token[:-2] + "xx",
        "x" * 600,
        "🦊".encode().decode("latin-1"),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/visitor/", "/api/v1/pages/find/?path=/"])
def test_forged_visitor_tokens_are_401(token, url):
    response = APIClient().get(url, HTTP_X_VISITOR_TOKEN=token)
    assert response.status_code == 401
    assert "visitor token" in response.json()["detail"]


def test_a_token_naming_something_else_signed_with_another_salt_is_401():
    from django.core import signing

    token = signing.dumps({"v": str(uuid.uuid4())}, salt="personalization.campaign")
    assert APIClient().get("/api/v1/visitor/", HTTP_X_VISITOR_TOKEN=token).status_code == 401


def test_an_expired_visitor_token_is_401(settings):
    settings.API_VISITOR_TOKEN_AGE = 3600
    with freeze_time("2026-01-01 00:00:00"):
        token = visitor_token_issue(uuid.uuid4()).token
    with freeze_time("2026-01-01 01:00:30"):
        response = APIClient().get("/api/v1/visitor/", HTTP_X_VISITOR_TOKEN=token)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_forged_api_token_is_401():
    response = APIClient().get("/api/v1/visitor/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401


def test_a_visitor_token_of_a_member_shows_nothing_of_the_member_without_their_login():
    member = MemberFactory(first_name="Sora")
    own = Visitor.objects.create(user=member, traits={"name": "Sora", "pet": "dog"})
    response = api_as(own.uuid).get("/api/v1/visitor/")
    assert response.status_code == 200
    assert response.json()["traits"] == {} and "Sora" not in response.content.decode()


# NO CLIENT CHOICE OF SEGMENT OR VARIANT
# ------------------------------------------------------------------------------

CHOOSING_PARAMS = {
    "segment": "1",
    "segments": "1,2,3",
    "segment_id": "2",
    "variant": "member-benefits",
    "experiment": "home-hero",
    "preview": "1",
    "mode": "segment-1",
    "preview_segments": "1",
}


def test_segment_or_variant_parameters_and_headers_have_no_effect():
    visitor_uuid = uuid.uuid4()
    plain = api_as(visitor_uuid).get("/api/v1/pages/find/", {"path": "/"}).json()
    newsletter = Segment.objects.get(slug="newsletter-readers").pk
    forcing = api_as(
        visitor_uuid,
        HTTP_X_SEGMENT=str(newsletter),
        HTTP_X_VARIANT="control",
        HTTP_X_PREVIEW_SEGMENTS=str(newsletter),
    ).get("/api/v1/pages/find/", {"path": "/", **CHOOSING_PARAMS, "segment": newsletter})
    forced = forcing.json()
    assert api_segments(forced["body"]) == api_segments(plain["body"]) == ["default"]
    assert api_variants(forced["body"]) == api_variants(plain["body"])
    assert forced["hero"] == plain["hero"]
    assert forced["meta"]["experiments"] == plain["meta"]["experiments"]
    assert forced["meta"]["preview"] is False


@pytest.mark.parametrize("variant", ["control", "member-benefits"])
def test_the_hero_variant_follows_the_visitor_not_the_request(variant):
    """Many visitors: each sees the variant of their id, whatever they ask for."""
    heroes = set()
    for number in range(12):
        visitor_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"visitor-{number}")
        plain = api_as(visitor_uuid).get("/api/v1/pages/find/", {"path": "/"}).json()
        asked = api_as(visitor_uuid).get(
            "/api/v1/pages/find/", {"path": "/", "variant": variant, "experiment": "home-hero"}
        )
        assert asked.json()["hero"] == plain["hero"]
        heroes.add(plain["hero"]["title"])
    assert len(heroes) == 2  # both variants occur, so the parameter really had a chance


def test_a_landing_url_cannot_claim_member_attributes_or_purchases():
    query = "is_member=true&region=tokyo&tier=gold&purchases.total_spend=99999&traits.pet=dog"
    api = api_as(uuid.uuid4(), HTTP_X_PAGE_URL=f"https://app.example/?{query}")
    segments = api.get("/api/v1/visitor/").json()["segments"]
    assert segments == []


def test_the_country_header_counts_only_from_a_trusted_proxy():
    overseas = Segment.objects.get(slug="overseas-visitors").pk
    untrusted = api_as(uuid.uuid4(), HTTP_CF_IPCOUNTRY="US", REMOTE_ADDR="203.0.113.9")
    trusted = api_as(uuid.uuid4(), HTTP_CF_IPCOUNTRY="US", REMOTE_ADDR="127.0.0.1")
    assert api_segments(untrusted.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]) == [
        "default"
    ]
    assert api_segments(trusted.get("/api/v1/pages/find/", {"path": "/"}).json()["body"]) == [
        str(overseas)
    ]


def test_visitors_cannot_report_purchases_or_sign_ups():
    for event_type in ("purchase", "sign_up"):
        response = api_as(uuid.uuid4()).post(
            "/api/v1/events/", {"type": event_type, "properties": {"amount": 99999}}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "type"


# STAFF-ONLY ENDPOINTS
# ------------------------------------------------------------------------------

STAFF_READS = [
    "/api/v1/segments/",
    "/api/v1/experiments/",
    "/api/v1/experiments/home-hero/results/",
]


@pytest.mark.parametrize("url", STAFF_READS)
def test_staff_endpoints_refuse_members_and_anonymous_callers(url):
    assert APIClient().get(url).status_code == 401
    member = api_as(user=MemberFactory())
    response = member.get(url)
    assert response.status_code == 403
    assert "Sign-up" not in response.content.decode() and "condition" not in response.json()


def test_members_cannot_mint_preview_tokens():
    home = Page.objects.get(depth=2)
    response = api_as(user=MemberFactory()).post(
        "/api/v1/preview-tokens/", {"page": home.pk}, format="json"
    )
    assert response.status_code == 403


# CSRF
# ------------------------------------------------------------------------------


def csrf_client(user) -> tuple[Client, str]:
    """A logged-in browser holding a CSRF cookie, as any page with a form would have set."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    secret = "k" * 32
    client.cookies["csrftoken"] = secret
    return client, secret


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("patch", "/api/v1/visitor/", {"name": "Mallory"}),
        ("delete", "/api/v1/visitor/", None),
        ("post", "/api/v1/events/", {"type": "page_view"}),
        ("post", "/api/v1/visitors/", None),
    ],
)
def test_session_authenticated_writes_need_the_csrf_token(method, url, body):
    member = MemberFactory()
    client, csrf = csrf_client(member)
    payload = json.dumps(body) if body is not None else ""
    refused = getattr(client, method)(url, payload, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    accepted = getattr(client, method)(
        url, payload, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code in (200, 201, 202, 204)


def test_token_authenticated_writes_need_no_csrf_token():
    response = api_as(uuid.uuid4(), user=MemberFactory()).patch(
        "/api/v1/visitor/", {"name": "Sora"}, format="json"
    )
    assert response.status_code == 200


def test_a_staff_member_is_not_a_member_for_csrf_purposes():
    admin = get_user_model().objects.get(username="admin")
    client, _ = csrf_client(admin)
    response = client.post("/api/v1/preview-tokens/", "{}", content_type="application/json")
    assert response.status_code == 403
