"""The render cache at the edge (issue 17 §4), at the origin: the decide endpoint's opaque key,
the shareable copy with its holes as includes, the fragments that fill them per visitor, and
every bad key treated as no key. The same behind a real Varnish: tests/e2e/test_edge_varnish.py.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from cms.holes import OPEN
from cms.models import SectionPage
from cms.render_cache import edge
from cms.render_cache.middleware import HEADER
from personalization.commerce.models import Product
from personalization.commerce.services import products_upsert
from personalization.events.models import Event, EventType
from personalization.models import Segment, Visitor
from tests.cms.edge_helpers import publish_edge_page
from tests.factories import MemberFactory
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db

KEY = edge.KEY_HEADER
ESI = {"HTTP_SURROGATE_CAPABILITY": 'varnish="ESI/1.0"'}
INCLUDE = re.compile(r'<esi:include src="([^"]+)" onerror="continue"/>')
PATH = "/dogs/choosing-dog-food/"


@pytest.fixture(autouse=True)
def edge_mode(settings):
    settings.RENDER_CACHE_EDGE = True
    settings.RENDER_CACHE_EDGE_SECRET = "edge-test-secret"


@pytest.fixture(autouse=True)
def page():
    return publish_edge_page()


def browser(**traits) -> Client:
    """A returning browser: a visitor (with these traits, consent given) and a CSRF cookie."""
    visitor = Visitor.objects.create(uuid=uuid.uuid4(), traits=traits)
    client = Client()
    browse_as(client, visitor)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = "a" * 32
    return client


def decide(client: Client, path: str = "") -> dict:
    path = path or PATH
    response = client.get("/api/v1/decide/", {"path": path})
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    answer = response.json()
    assert response.get(KEY) == answer["key"] or (answer["key"] is None and KEY not in response)
    return answer


def warm(path: str = "", **traits) -> None:
    """A page view through the origin by a visitor with `traits`: the render of their key
    and the page's route are stored."""
    assert browser(**traits).get(path or PATH).status_code == 200


def edge_fetch(client: Client, key: str, path: str = ""):
    """The page as the proxy asks for it on a miss: the visitor's cookies and the key."""
    return client.get(path or PATH, HTTP_X_PERSONALIZATION_KEY=key, **ESI)


def esi_resolve(client: Client, body: str) -> str:
    """What Varnish does with the shared copy for this visitor: each include fetched."""
    return INCLUDE.sub(lambda m: client.get(m.group(1)).content.decode(), body)


def test_decide_answers_an_opaque_key_per_segment_shared_within_one():
    dogs = Segment.objects.get(slug="dog-people")
    warm(pet="dog")
    warm(pet="cat")
    dog_1, dog_2, cat = browser(pet="dog"), browser(pet="dog"), browser(pet="cat")
    key_1, key_2, key_cat = (decide(c)["key"] for c in (dog_1, dog_2, cat))
    assert key_1 is not None and key_cat is not None
    assert key_1 == key_2 != key_cat
    assert re.fullmatch(r"v1\.[A-Za-z0-9_-]{4}\.[A-Za-z0-9_-]{22}", key_1)
    assert "dog" not in key_1.lower() and dogs.slug not in key_1  # nothing readable in it


def test_the_key_rotates_with_the_secret(settings):
    warm(pet="dog")
    client = browser(pet="dog")
    before = decide(client)["key"]
    settings.RENDER_CACHE_EDGE_SECRET = "a-new-secret"
    after = decide(client)["key"]
    assert after != before
    assert after.split(".")[1] != before.split(".")[1]  # the key id shows the secret changed
    # A key from the old secret is stale: no key at all for the origin.
    response = edge_fetch(client, before)
    assert response.status_code == 200
    assert KEY not in response and "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("not-rendered", "not-cached"),
        ("new-visitor", "new-visitor"),
        ("no-csrf-cookie", "no-csrf-cookie"),
        ("campaign", "campaign"),
        ("restricted", "restricted"),
        ("edge-off", "edge-off"),
    ],
)
def test_decide_gives_no_key_when_the_page_must_come_from_the_origin(setup, reason, settings, page):
    path = PATH + "?utm_source=newsletter" if setup == "campaign" else PATH
    if setup != "not-rendered":
        warm()
    client = browser()
    if setup == "new-visitor":
        client = Client()
    elif setup == "no-csrf-cookie":
        del client.cookies[django_settings.CSRF_COOKIE_NAME]
    elif setup == "restricted":
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
        warm_member = Client()
        warm_member.force_login(MemberFactory())
        warm_member.get(PATH)
    elif setup == "edge-off":
        settings.RENDER_CACHE_EDGE = False
    assert decide(client, path) == {"key": None, "reason": reason}


def test_nginx_may_name_the_page_in_x_original_uri():
    warm(pet="dog")
    client = browser(pet="dog")
    by_header = client.get("/api/v1/decide/", HTTP_X_ORIGINAL_URI=PATH).json()
    assert by_header["key"] is not None and by_header == decide(client)


@pytest.mark.parametrize("path", ["", "dogs/", "//evil.example/", "/" + "a" * 3000])
def test_decide_refuses_a_bad_path_with_a_400_naming_it(path):
    response = browser().get("/api/v1/decide/", {"path": path} if path else {})
    assert response.status_code == 400
    assert "path" in response.json()["errors"] if "errors" in response.json() else response.json()


def test_the_shared_copy_holds_includes_not_the_visitor_and_each_visitor_fills_their_own():
    warm(pet="dog", name="Someone")
    aiko, ben = browser(pet="dog", name="Aiko-Unique"), browser(pet="dog", name="Ben-Unique")
    key = decide(aiko)["key"]
    assert decide(ben)["key"] == key
    response = edge_fetch(aiko, key)
    assert response.status_code == 200
    assert response[HEADER] == "edge"
    assert response[KEY] == key
    assert response["Vary"] == KEY
    assert "public" in response["Cache-Control"] and "s-maxage=" in response["Cache-Control"]
    assert response["Surrogate-Control"] == 'content="ESI/1.0"'
    assert not response.cookies
    shared = response.content.decode()
    assert OPEN not in shared and "Aiko-Unique" not in shared
    assert "csrfmiddlewaretoken" not in shared  # each visitor's token is an include
    assert len(INCLUDE.findall(shared)) >= 4  # greeting, form, offer, header, csrf inputs ...
    for client, own, other in ((aiko, "Aiko-Unique", "Ben-Unique"), (ben, "Ben-Unique", "Aiko")):
        page = esi_resolve(client, shared)
        assert f"Hello, {own}!" in page  # a first visit: no "welcome back"
        assert other not in page
        assert 'name="csrfmiddlewaretoken" value="' in page


def test_visitors_of_different_segments_get_their_own_variant_from_their_own_key():
    warm(pet="dog")
    warm(pet="cat")
    dog, cat = browser(pet="dog"), browser(pet="cat")
    dog_copy = edge_fetch(dog, decide(dog)["key"]).content.decode()
    cat_copy = edge_fetch(cat, decide(cat)["key"]).content.decode()
    assert "DOG-VARIANT" in dog_copy and "DEFAULT-VARIANT" not in dog_copy
    assert "DEFAULT-VARIANT" in cat_copy and "DOG-VARIANT" not in cat_copy


@pytest.mark.parametrize("forged", ["dogs-key", "v1.AAAA.AAAAAAAAAAAAAAAAAAAAAA", "x" * 5000, ""])
def test_a_forged_or_foreign_key_is_no_key_served_fresh_and_private(forged):
    warm(pet="dog")
    warm(pet="cat")
    dog, cat = browser(pet="dog", name="Dog-Owner"), browser(pet="cat")
    sent = decide(dog)["key"] if forged == "dogs-key" else forged
    response = edge_fetch(cat, sent)  # a cat visitor presents the dogs' key, or garbage
    assert response.status_code == 200
    assert KEY not in response and "Surrogate-Control" not in response
    assert "private" in response["Cache-Control"]
    html = response.content.decode()
    assert "<esi:include" not in html and OPEN not in html
    assert "DEFAULT-VARIANT" in html and "DOG-VARIANT" not in html


def test_a_key_from_before_a_publish_is_stale(page):
    warm(pet="dog")
    client = browser(pet="dog")
    key = decide(client)["key"]
    page.save_revision().publish()
    response = edge_fetch(client, key)
    assert KEY not in response and "private" in response["Cache-Control"]
    warm(pet="dog")
    assert decide(client)["key"] not in (None, key)


def test_a_catalogue_change_makes_only_the_keys_of_pages_with_products_stale(
    django_capture_on_commit_callbacks,
):
    shop = SectionPage.objects.get(slug="shop", locale__language_code="en").url
    for path in (PATH, shop):
        warm(path, pet="dog")
    client = browser(pet="dog")
    before = {path: decide(client, path)["key"] for path in (PATH, shop)}
    assert None not in before.values()
    shared = edge_fetch(client, before[shop], shop).content.decode()
    src = next(  # a product card's favourite button
        src for src in INCLUDE.findall(shared) if b"data-favourite-sku" in client.get(src).content
    )

    with django_capture_on_commit_callbacks(execute=True):
        products_upsert([{"sku": Product.objects.filter(active=True).first().sku, "stock": 1}])

    assert decide(client, PATH)["key"] == before[PATH]  # no products: still shared as it was
    response = edge_fetch(client, before[shop], shop)
    assert KEY not in response and "private" in response["Cache-Control"]
    assert client.get(src).content == b""  # the old copy's includes answer nothing
    warm(shop, pet="dog")
    assert decide(client, shop)["key"] not in (None, before[shop])


def test_a_members_only_page_is_never_shareable(page):
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    member_client = browser()
    member_client.force_login(MemberFactory())
    member_client.get(PATH)
    member_client.get(PATH)
    assert decide(member_client)["reason"] == "restricted"
    anonymous = browser()
    assert anonymous.get(PATH, HTTP_X_PERSONALIZATION_KEY="v1.AAAA.x", **ESI).status_code == 302


def test_a_forged_or_stale_hole_reference_is_an_empty_answer_never_a_500(settings):
    warm(pet="dog")
    client = browser(pet="dog")
    shared = edge_fetch(client, decide(client)["key"]).content.decode()
    src = INCLUDE.search(shared).group(1)
    tampered = src[:-3] + ("A" if src[-3] != "A" else "B") + src[-2:]
    for bad in (tampered, "/_edge/hole/nonsense/", "/_edge/hole/" + "x" * 3000 + "/"):
        response = client.get(bad)
        assert response.status_code in (400, 404)
        assert response.content == b""
        assert "no-store" in response["Cache-Control"]
    settings.RENDER_CACHE_EDGE_SECRET = "rotated"
    assert client.get(src).content == b""


def test_decide_counts_the_page_view_and_the_edge_fetch_does_not(run_jobs):
    warm(pet="dog")
    client = browser(pet="dog")
    visitor_uuid = client.cookies[django_settings.VISITOR_COOKIE_NAME].value.split(":")[0]
    visitor = Visitor.objects.get(uuid=visitor_uuid)
    with run_jobs():
        key = decide(client)["key"]
        edge_fetch(client, key)
        esi_resolve(client, edge_fetch(client, key).content.decode())
    views = Event.objects.filter(type=EventType.PAGE_VIEW, visitor=visitor)
    assert views.count() == 1


def test_an_ssi_proxy_gets_nginx_includes():
    warm()
    client = browser()
    response = client.get(
        PATH, HTTP_X_PERSONALIZATION_KEY=decide(client)["key"], HTTP_SURROGATE_CAPABILITY="SSI/1.0"
    )
    body = response.content.decode()
    assert '<!--# include virtual="/_edge/hole/' in body and "<esi:" not in body
    assert "Surrogate-Control" not in response


def test_without_include_support_a_page_with_holes_is_not_shared():
    warm()
    client = browser()
    response = client.get(PATH, HTTP_X_PERSONALIZATION_KEY=decide(client)["key"])
    assert KEY not in response and "private" in response["Cache-Control"]
    assert OPEN not in response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_decide_costs_at_most_one_query_anonymous_and_two_as_a_member(who):
    client = browser(pet="dog")
    budget = 1
    if who == "member":
        member = MemberFactory()
        Visitor.objects.create(user=member)
        client.force_login(member)
        budget = 2
    client.get(PATH)
    client.get(PATH)
    decide(client)
    with CaptureQueriesContext(connection) as queries:
        answer = decide(client)
    assert answer["key"] is not None, answer
    assert len(queries) <= budget, [q["sql"][:120] for q in queries]
