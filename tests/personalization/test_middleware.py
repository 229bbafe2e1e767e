"""Visitor identity: a signed cookie, no database writes on the request path, and no 500 from
anything a client can send."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personalization.models import Visitor
from tests.factories import MemberFactory
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db
COOKIE = settings.VISITOR_COOKIE_NAME


def wire(text: str) -> str:
    """How a WSGI server hands over UTF-8 bytes a client sent: decoded as Latin-1."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def test_first_visit_gets_a_signed_httponly_lax_visitor_cookie(client):
    response = client.get("/")
    morsel = response.cookies[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert int(morsel["max-age"]) > 300 * 24 * 3600
    assert ":" in morsel.value  # value:signature


def test_the_cookie_is_kept_on_later_requests(client):
    first = client.get("/").cookies[COOKIE].value
    second = client.get("/dogs/")
    assert COOKIE not in second.cookies  # not re-issued: still valid
    assert client.cookies[COOKIE].value == first


@pytest.mark.parametrize(
    "value",
    [
        "not-signed",
        "3f1c2a9e-0000-4000-8000-000000000000:forged-signature",
        "",
        "\x00\x01",
        "a" * 5000,
        wire("💥"),
        '"quoted"',
    ],
)
def test_tampered_or_malformed_cookies_are_replaced_not_an_error(client, value):
    client.cookies[COOKIE] = value
    response = client.get("/")
    assert response.status_code == 200
    assert response.cookies[COOKIE].value != value


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no User-Agent at all (the peer crashes here)
        {"HTTP_USER_AGENT": ""},
        {"HTTP_USER_AGENT": "x" * 20000},
        {"HTTP_USER_AGENT": wire("Mozilla/5.0 \udcff ブラウザ")},
        {"HTTP_REFERER": "http://[::1"},
        {"HTTP_REFERER": "javascript:alert(1)"},
        {"HTTP_CF_IPCOUNTRY": "ZZZ-not-a-country"},
        {"HTTP_CF_IPCOUNTRY": "jp"},
        {"HTTP_ACCEPT_LANGUAGE": wire("🦄")},
        {"QUERY_STRING": "utm_source=" + "n" * 5000},
        {"QUERY_STRING": "utm_source=%ff%fe&utm_medium[]=x"},
        {"HTTP_COOKIE": "pv_campaign=garbage; pv=also-garbage"},
    ],
)
def test_no_header_cookie_or_query_string_breaks_a_personalized_page(client, headers):
    response = client.get("/", **headers)
    assert response.status_code == 200
    assert 'class="personalized"' in response.content.decode()


def test_a_personalized_request_writes_nothing_to_the_database(client):
    member = MemberFactory()
    client.force_login(member)
    client.get("/")  # warm: compiled segments, session
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/?utm_source=newsletter", HTTP_CF_IPCOUNTRY="JP")
    assert response.status_code == 200
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_no_visitor_row_is_created_by_browsing_itself(client):
    before = Visitor.objects.count()
    client.get("/")
    client.get("/dogs/")
    assert Visitor.objects.count() == before  # events are queued; the job creates the row


def test_logging_in_merges_the_anonymous_history_into_the_member(client):
    anonymous = Visitor.objects.create(
        traits={"name": "Mika", "pet": "cat"}, page_view_count=4, section_views={"cats": 4}
    )
    browse_as(client, anonymous)
    member = MemberFactory()
    member_visitor = Visitor.objects.create(
        user=member, page_view_count=2, section_views={"cats": 1, "dogs": 1}
    )
    response = client.post(
        "/account/login/", {"username": member.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    member_visitor.refresh_from_db()
    assert member_visitor.page_view_count == 6
    assert member_visitor.section_views == {"cats": 5, "dogs": 1}
    assert member_visitor.traits["name"] == "Mika"
    anonymous.refresh_from_db()
    assert anonymous.merged_into_id == member_visitor.pk
    assert response.cookies[COOKIE].value.startswith(str(member_visitor.uuid))


def test_signing_up_keeps_the_anonymous_visitor_as_the_members(client):
    anonymous = Visitor.objects.create(traits={"name": "Ren", "pet": "dog"})
    browse_as(client, anonymous)
    client.post(
        "/account/signup/",
        {
            "name": "Ren",
            "email": "ren@example.com",
            "password1": "walkies-at-dawn-42",
            "password2": "walkies-at-dawn-42",
        },
    )
    anonymous.refresh_from_db()
    assert anonymous.user.email == "ren@example.com"
    assert "Hello, Ren!" in client.get("/").content.decode()


def test_logging_out_gives_the_browser_a_new_anonymous_identity(client):
    member = MemberFactory(first_name="Hana")
    client.force_login(member)
    Visitor.objects.create(user=member)
    assert "Hello, Hana!" in client.get("/").content.decode()
    before = client.cookies[COOKIE].value
    response = client.post("/account/logout/")
    assert response.cookies[COOKIE].value != before
    assert "Hana" not in client.get("/").content.decode()


def test_an_anonymous_visitor_is_one_query_and_an_old_merged_cookie_finds_its_target(rf):
    """A browser still holding the cookie of a visitor merged into another gets the target's
    history (a second query, only then); a plain anonymous visitor costs one query."""
    from django.contrib.auth.models import AnonymousUser

    from personalization.middleware import load_visitor

    target = Visitor.objects.create(page_view_count=7, section_views={"dogs": 7})
    merged = Visitor.objects.create(merged_into=target)
    plain = Visitor.objects.create(page_view_count=1)
    for visitor, expected, queries in ((merged, target, 2), (plain, plain, 1)):
        request = rf.get("/")
        request.user, request.visitor_uuid = AnonymousUser(), visitor.uuid
        with CaptureQueriesContext(connection) as captured:
            found = load_visitor(request)
        assert (found.pk, found.page_view_count) == (expected.pk, expected.page_view_count)
        assert len(captured) == queries
