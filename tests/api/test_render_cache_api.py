"""The API's page documents from the segment-keyed render cache (issue 17 §2, §3): one stored
document per (page, revision, personalization key) — the site's key — with the visitor's own
parts filled per request; the same choices as the site whichever of the two was cached; nothing
of one member in another's JSON; fresh after a publish and a segment edit; ETag and 304; and a
hit whose SQL does not grow with the number of segments."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction

from cms.api.holes import MARKER
from cms.api.render_cache import HEADER
from cms.models import ContentPage, HomePage, SectionPage
from cms.render_cache import store
from experiments.models import Exposure
from personalization.events.models import Event, EventType
from personalization.events.services import event_payload, events_ingest
from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.models import (
    Journey,
    JourneyStatus,
    JourneyStep,
    StepAction,
    TriggerKind,
)
from personalization.models import Consent, Segment, Visitor
from tests.api.helpers import api_as, api_segments, site_segments, walk_blocks
from tests.api.test_parity import PROFILES, api_view, assert_same_choices, site_view
from tests.experiments.variant_helpers import ab_block, make_experiment, publish_body
from tests.factories import MemberFactory
from tests.journeys.helpers import messages_at_any_hour
from tests.personalization.helpers import browse_as
from tests.personalization.test_query_budget import make_segments, personalized_body, publish
from tests.redis_commands import needs_redis, redis_round_trips

pytestmark = pytest.mark.django_db
FIND = "/api/v1/pages/find/"


def find(api, path: str, **headers):
    return api.get(FIND, {"path": path}, **headers)


def ok(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response.json()


def _block(kind: str, value) -> dict:
    return {"type": kind, "id": str(uuid.uuid4()), "value": value}


def _paragraph(text: str) -> dict:
    return _block("paragraph", f"<p>{text}</p>")


def by_type(document: dict) -> dict:
    return {block["type"]: block for block in document["body"]}


# THE STORED DOCUMENT, FILLED PER VISITOR
# ------------------------------------------------------------------------------


def test_a_second_visitor_with_the_same_key_is_served_the_stored_document():
    first = find(api_as(uuid.uuid4()), "/dogs/")
    second = find(api_as(uuid.uuid4()), "/dogs/")
    assert (first[HEADER], second[HEADER]) == ("miss", "hit")
    assert ok(first) == ok(second)
    assert "private" in second["Cache-Control"] and "X-Visitor-Token" in second["Vary"]


def test_the_page_by_id_and_by_path_share_the_stored_document():
    home = HomePage.objects.get()
    api = api_as(uuid.uuid4())
    by_path = find(api, "/")
    by_id = api.get(f"/api/v1/pages/{home.pk}/")
    assert (by_path[HEADER], by_id[HEADER]) == ("miss", "hit")
    assert ok(by_path) == ok(by_id)


@pytest.mark.parametrize("make_profile", PROFILES, ids=lambda f: f.__name__)
def test_a_document_from_the_cache_is_the_document_rendered_without_it(make_profile, settings):
    """Every demo page, each demo profile: the hit's filled document equals what the endpoint
    answers with the render cache off, and holds no marker."""
    profile = make_profile()
    pages = Page.objects.live().type(HomePage, SectionPage, ContentPage).specific()
    for page in pages:
        settings.RENDER_CACHE_ENABLED = True
        api_view(profile, page)
        cached = api_view(profile, page)
        settings.RENDER_CACHE_ENABLED = False
        rendered = api_view(profile, page)
        assert cached.status_code == rendered.status_code, page.url
        if cached.status_code != 200:
            continue
        assert cached[HEADER] == "hit" and HEADER not in rendered, page.url
        assert MARKER not in cached.content.decode()
        assert cached.json() == rendered.json(), page.url


def test_visitors_of_different_segments_get_their_own_variant_and_share_within_one():
    dogs = Segment.objects.get(slug="dog-people")
    dog_1, dog_2, cat = (
        api_as(Visitor.objects.create(traits={"pet": pet}).uuid) for pet in ("dog", "dog", "cat")
    )
    first, second, other = find(dog_1, "/dogs/"), find(dog_2, "/dogs/"), find(cat, "/dogs/")
    assert (first[HEADER], second[HEADER], other[HEADER]) == ("miss", "hit", "miss")
    assert api_segments(ok(first)["body"]) == api_segments(ok(second)["body"]) == [str(dogs.pk)]
    assert str(dogs.pk) not in api_segments(ok(other)["body"])


def test_the_api_serves_a_visitor_what_the_site_cached_for_another_of_their_segment():
    """One key for both: a dog owner's page cached on the site, another dog owner's document
    rendered by the API (and a cat owner's from the API's cache), choose alike."""
    dog_site, dog_api = (Visitor.objects.create(traits={"pet": "dog"}) for _ in range(2))
    site = Client()
    browse_as(site, dog_site)
    site.get("/dogs/")
    site_hit = site.get("/dogs/")
    api_rendered = find(api_as(dog_api.uuid), "/dogs/")
    assert (site_hit["X-Render-Cache"], api_rendered[HEADER]) == ("hit", "miss")
    assert site_segments(site_hit.content.decode()) == api_segments(ok(api_rendered)["body"])
    cat_api, cat_site = (Visitor.objects.create(traits={"pet": "cat"}) for _ in range(2))
    find(api_as(cat_api.uuid), "/dogs/")
    browse_as(site, cat_site)
    api_hit = find(api_as(cat_site.uuid), "/dogs/")
    site_rendered = site.get("/dogs/")
    assert (api_hit[HEADER], site_rendered["X-Render-Cache"]) == ("hit", "miss")
    assert site_segments(site_rendered.content.decode()) == api_segments(ok(api_hit)["body"])
    assert api_segments(api_hit.json()["body"]) != api_segments(api_rendered.json()["body"])


# THE SITE AND THE API AGREE, WHICHEVER WAS CACHED
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("make_profile", PROFILES, ids=lambda f: f.__name__)
def test_site_and_api_agree_when_one_is_cached_and_the_other_rendered(make_profile):
    """For each demo visitor on every demo page: the site's page from the cache and the API's
    document rendered choose the same; then (everything cached before forgotten) the API's
    document from the cache and the site's page rendered."""
    profile = make_profile()
    pages = Page.objects.live().type(HomePage, SectionPage, ContentPage).specific()
    hits = 0
    for page in pages:
        site_view(profile, page)
        site_hit, api_rendered = site_view(profile, page), api_view(profile, page)
        store.bump_generation()
        api_view(profile, page)
        api_hit, site_rendered = api_view(profile, page), site_view(profile, page)
        if site_hit.status_code == 302:  # members-only, and this visitor is not a member
            assert api_rendered.status_code == api_hit.status_code == 401
            continue
        assert (site_hit["X-Render-Cache"], api_rendered[HEADER]) == ("hit", "miss"), page.url
        assert (api_hit[HEADER], site_rendered["X-Render-Cache"]) == ("hit", "miss"), page.url
        assert_same_choices(site_hit.content.decode(), api_rendered.json())
        assert_same_choices(site_rendered.content.decode(), api_hit.json())
        hits += 1
    assert hits >= 9


# NOTHING OF ONE VISITOR IN ANOTHER'S JSON
# ------------------------------------------------------------------------------


@pytest.fixture
def page_of_holes():
    """A page whose only personalization is per visitor: a greeting, the profile form, a capped
    offer and a journey notification slot (every visitor with one consent state shares a key)."""
    page = ContentPage.objects.get(slug="choosing-dog-food")
    body = [
        _block("greeting", {"greeting": "Hi {name}!", "anonymous_greeting": "Hello there"}),
        _block("profile_form", {"heading": "Tell us", "text": "", "button_label": "Go"}),
        _block(
            "offer",
            {
                "offer_key": "cache-offer",
                "title": "OFFER-SHOWN",
                "text": "",
                "button_label": "Shop",
                "link": {"page": None, "url": "/offer/"},
                "cap": 2,
                "cap_period": "day",
                "fallback": [_paragraph("OFFER-FALLBACK")],
            },
        ),
        _block("notification", {"link_label": "Look", "fallback": ""}),
    ]
    publish_body(page, body)
    return page


def consented(*, user=None, visitor=None) -> None:
    Consent.objects.update_or_create(
        user=user,
        visitor_uuid=None if user else visitor.uuid,
        defaults={"analytics": True, "personalization": True, "marketing": True},
    )


def member_with_a_message(first_name: str, email: str) -> tuple[object, Visitor]:
    """A consenting member whose visitor has a name, a pet, the offer capped for today and an
    on-site journey message waiting."""
    messages_at_any_hour()
    Journey.objects.update(status=JourneyStatus.PAUSED)
    journey = Journey.objects.create(
        name="Hello on site",
        trigger=TriggerKind.EVENT,
        trigger_event="sign_up",
        status=JourneyStatus.ACTIVE,
    )
    JourneyStep.objects.create(
        journey=journey,
        sort_order=0,
        action=StepAction.ON_SITE,
        message_title=f"Only-for-{first_name}",
        message_text="A secret for {{ name }}",
    )
    member = MemberFactory(first_name=first_name, email=email)
    consented(user=member)
    visitor = Visitor.objects.create(
        user=member,
        traits={"name": f"{first_name}-Unique", "pet": "other"},
        visit_count=2,  # returning: greeted with the block's own greeting
        offer_impressions={
            "cache-offer": {"day": timezone.localdate().isoformat(), "day_count": 2}
        },
    )
    events_ingest(
        payloads=[
            event_payload(visitor_uuid=visitor.uuid, user_id=member.pk, type=EventType.SIGN_UP)
        ]
    )
    journeys_evaluate()
    return member, visitor


def test_nothing_of_member_a_reaches_member_b_or_an_anonymous_visitor(page_of_holes):
    member_a, visitor_a = member_with_a_message("Aiko", "aiko-secret@example.com")
    response_a = find(api_as(visitor_a.uuid, user=member_a), page_of_holes.url)
    document_a = ok(response_a)
    assert response_a[HEADER] == "miss"
    blocks_a = by_type(document_a)
    assert blocks_a["greeting"]["value"]["text"] == "Hi Aiko-Unique!"
    assert blocks_a["profile_form"]["value"]["answered"] is True
    assert blocks_a["offer"]["chosen"] == {"offer": "cache-offer", "capped": True}
    assert blocks_a["notification"]["chosen"]["notification"]["title"] == "Only-for-Aiko"
    assert {"id": blocks_a["offer"]["id"], "type": "offer", "offer": "cache-offer",
            "capped": True} in document_a["meta"]["blocks"]  # fmt: skip

    member_b = MemberFactory(first_name="Ben", email="ben@example.com")
    consented(user=member_b)
    anonymous = Visitor.objects.create()
    consented(visitor=anonymous)
    for api in (api_as(user=member_b), api_as(anonymous.uuid)):
        response = find(api, page_of_holes.url)
        text = response.content.decode()
        assert response[HEADER] == "hit"
        for secret in ("Aiko", "aiko-secret", "Only-for-Aiko", "A secret", MARKER):
            assert secret not in text
        assert response["ETag"] != response_a["ETag"]
        blocks = by_type(response.json())
        assert blocks["offer"]["chosen"]["capped"] is False
        assert blocks["offer"]["value"]["title"] == "OFFER-SHOWN"
        assert blocks["notification"]["chosen"] == {"notification": None}
    ben = by_type(ok(find(api_as(user=member_b), page_of_holes.url)))
    stranger = by_type(ok(find(api_as(anonymous.uuid), page_of_holes.url)))
    assert ben["greeting"]["value"]["text"] == "Hello, Ben!"  # his first visit
    assert stranger["profile_form"]["value"]["answered"] is False
    assert stranger["greeting"]["value"] == {
        "text": "Hello there",
        "name": None,
        "pet": None,
        "image": None,
    }


def test_a_journey_message_is_taken_once_and_then_the_fallback_shows(page_of_holes):
    member, visitor = member_with_a_message("Aiko", "aiko@example.com")
    api = api_as(visitor.uuid, user=member)
    first = by_type(ok(find(api, page_of_holes.url)))["notification"]
    again = find(api, page_of_holes.url)
    assert first["chosen"]["notification"]["title"] == "Only-for-Aiko"
    assert again[HEADER] == "hit"
    assert by_type(again.json())["notification"]["chosen"] == {"notification": None}


# WHAT A HIT RECORDS
# ------------------------------------------------------------------------------


def test_a_hit_records_exposures_and_offer_impressions_like_a_rendered_document(
    run_jobs, page_of_holes
):
    from experiments.usage import experiment_start

    experiment = make_experiment("api-cache-test", ["control", "b"], weights=[0.5, 0.5])
    offer = next(b for b in page_of_holes.body.raw_data if b["type"] == "offer")
    publish_body(page_of_holes, [ab_block("api-cache-test", ["control", "b"]), offer])
    experiment_start(experiment=experiment)
    served = {}
    with run_jobs():
        for _ in range(10):
            visitor = Visitor.objects.create()
            consented(visitor=visitor)
            response = find(api_as(visitor.uuid), page_of_holes.url)
            arm = dict(api_variants_of(ok(response)))["api-cache-test"]
            served[visitor.pk] = (arm, response[HEADER])
    assert any(state == "hit" for _, state in served.values())
    exposures = dict(
        Exposure.objects.filter(experiment=experiment).values_list("visitor_id", "variant__name")
    )
    assert exposures == {pk: arm for pk, (arm, _) in served.items()}
    shown = Event.objects.filter(type=EventType.OFFER_IMPRESSION, name="cache-offer")
    assert sorted(shown.values_list("visitor_id", flat=True)) == sorted(served)
    assert not Event.objects.filter(type=EventType.PAGE_VIEW, visitor_id__in=served).exists()


def api_variants_of(document: dict) -> list[tuple[str, str]]:
    return [
        (block["chosen"]["experiment"], block["chosen"]["variant"])
        for block in walk_blocks(document["body"])
        if "experiment" in block.get("chosen", {})
    ]


def test_api_hits_and_misses_count_in_the_pages_render_cache_figures():
    from cms.render_cache import stats

    page = ContentPage.objects.get(slug="choosing-dog-food")
    for _ in range(3):
        find(api_as(uuid.uuid4()), page.url)
    today, _ = stats.page_counts(page_id=page.pk)
    assert (today.misses, today.hits, today.keys) == (1, 2, 1)


# FRESHNESS
# ------------------------------------------------------------------------------


def test_publishing_changes_what_the_next_request_sees():
    page = ContentPage.objects.get(slug="choosing-dog-food")
    api = api_as(uuid.uuid4())
    find(api, page.url)
    assert find(api, page.url)[HEADER] == "hit"
    publish_body(page, [_paragraph("FRESH-AFTER-PUBLISH")])
    response = find(api, page.url)
    assert response[HEADER] == "miss"
    assert "FRESH-AFTER-PUBLISH" in response.content.decode()


def test_a_segment_edit_changes_the_next_request():
    dogs = Segment.objects.get(slug="dog-people")
    api = api_as(Visitor.objects.create(traits={"pet": "dog"}).uuid)
    assert api_segments(ok(find(api, "/dogs/"))["body"]) == [str(dogs.pk)]
    assert find(api, "/dogs/")[HEADER] == "hit"
    dogs.enabled = False
    dogs.save()
    response = find(api, "/dogs/")
    assert response[HEADER] == "miss"
    assert str(dogs.pk) not in api_segments(ok(response)["body"])


def test_stopping_an_experiment_with_a_winner_serves_the_winner_at_once():
    from experiments.usage import experiment_start

    page = ContentPage.objects.get(slug="choosing-dog-food")
    experiment = make_experiment("api-cache-winner", ["control", "b"], weights=[0.5, 0.5])
    publish_body(page, [ab_block("api-cache-winner", ["control", "b"])])
    experiment_start(experiment=experiment)
    for _ in range(3):
        find(api_as(uuid.uuid4()), page.url)
    experiment.refresh_from_db()
    experiment.complete(winner=experiment.variants.get(name="b"))
    for _ in range(3):
        document = ok(find(api_as(uuid.uuid4()), page.url))
        assert api_variants_of(document) == [("api-cache-winner", "b")]


def test_a_members_only_page_is_never_served_from_the_cache_to_someone_not_admitted():
    page = ContentPage.objects.get(slug="choosing-dog-food")
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.LOGIN
    )
    find(api_as(user=MemberFactory()), page.url)
    assert find(api_as(user=MemberFactory()), page.url)[HEADER] == "hit"
    assert find(api_as(uuid.uuid4()), page.url).status_code == 401
    group = Group.objects.create(name="Gold members")
    restriction.restriction_type = PageViewRestriction.GROUPS
    restriction.save()
    restriction.groups.add(group)
    insider = MemberFactory()
    insider.groups.add(group)
    assert find(api_as(user=insider), page.url).status_code == 200
    assert find(api_as(user=insider), page.url)[HEADER] == "hit"
    assert find(api_as(user=MemberFactory()), page.url).status_code == 403
    assert api_as(uuid.uuid4()).get(f"/api/v1/pages/{page.pk}/").status_code == 401


# ETAG AND 304
# ------------------------------------------------------------------------------


def test_an_unchanged_document_answers_304_to_its_etag_and_a_changed_one_does_not():
    visitor = Visitor.objects.create(traits={"name": "Mika", "pet": "cat"}, visit_count=2)
    api = api_as(visitor.uuid)
    response = find(api, "/")
    etag = response["ETag"]
    again = find(api, "/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and not again.content
    assert again["ETag"] == etag and again[HEADER] == "hit"
    assert "private" in again["Cache-Control"]
    visitor.traits = {"name": "Noa", "pet": "cat"}  # the greeting changes, the key does not
    visitor.save()
    changed = find(api, "/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed[HEADER] == "hit"
    assert changed["ETag"] != etag
    assert by_type(changed.json())["greeting"]["value"]["text"] == "Welcome back, Noa!"


def test_a_document_the_same_for_everyone_stays_public_from_the_cache(client):
    path = "/cats/litter-that-works/"
    response = client.get(FIND, {"path": path})
    cached = client.get(FIND, {"path": path}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert (response[HEADER], cached[HEADER]) == ("miss", "hit")
    assert "public" in response["Cache-Control"] and "public" in cached["Cache-Control"]
    assert cached.status_code == 304 and not cached.cookies


# QUERY BUDGET OF A HIT
# ------------------------------------------------------------------------------


def hit_queries(api, path: str) -> tuple[int, list[str]]:
    find(api, path)
    find(api, path)  # warm: the visitor row, the route, the document
    with CaptureQueriesContext(connection) as captured:
        response = find(api, path)
    assert response[HEADER] == "hit"
    return len(captured), [query["sql"] for query in captured]


# What a hit costs: no page lookup at all (the route is cached), and of who is asking only what
# the cache cannot know — an API token's member and the visitor's row. The erasure check and the
# stored consent (an app sends no consent cookie) come from the cache, renewed on every change.
# The budget: at most 1 query for an anonymous visitor, 2 for a member.
BUDGETS = {"visitor token": 1, "member": 2, "member with a visitor token": 2}
IDENTITY_TABLES = (
    "personalization_erasedvisitor",
    "authtoken_token",
    "personalization_consent",
    "personalization_visitor",
    "experiments_assignment",
)


def caller(kind: str):
    if kind == "visitor token":
        return api_as(Visitor.objects.create().uuid)
    member = MemberFactory()
    Visitor.objects.create(user=member)  # made by the job of their first page view
    return api_as(Visitor.objects.create().uuid if "token" in kind else None, user=member)


def tables(sql: list[str]) -> list[str]:
    return [next((t for t in IDENTITY_TABLES if f'FROM "{t}"' in q), q[:120]) for q in sql]


@pytest.mark.parametrize("kind", list(BUDGETS))
def test_a_hit_costs_a_fixed_budget_whatever_the_number_of_segments(kind):
    few = publish("budget-few", personalized_body(make_segments(40)[:3]))
    many = publish("budget-many", personalized_body(list(Segment.objects.filter(
        slug__startswith="budget-"))))  # fmt: skip
    api = caller(kind)
    count_few, sql_few = hit_queries(api, few)
    count_many, sql_many = hit_queries(api, many)
    assert count_many == count_few, (tables(sql_few), tables(sql_many))
    assert count_many <= BUDGETS[kind], tables(sql_many)
    assert set(tables(sql_many)) <= set(IDENTITY_TABLES), tables(sql_many)


def test_a_hit_on_the_demo_home_page_stays_within_the_budget():
    """The home page: a page-level test, A/B blocks, segments, a greeting, a form and an offer
    (plus one query: the visitor's stored experiment assignments, for their arms) and products
    picked for the visitor (plus the recommender's one query: the pairs of the products the
    visitor viewed; the catalogue itself is in each process's memory)."""
    viewed = {"DOG-WALK-001": timezone.localdate().isoformat()}
    count, sql = hit_queries(api_as(Visitor.objects.create(products_viewed=viewed).uuid), "/")
    assert count <= BUDGETS["visitor token"] + 2, tables(sql)
    picked = [q for q in sql if '"commerce_productpair"' in q]
    assert len(picked) == 1, tables(sql)
    assert set(tables([q for q in sql if q not in picked])) <= set(IDENTITY_TABLES), tables(sql)


# And what a hit asks Redis, one round trip each: the version tokens with the route in one
# MGET, the visitor's stored consent (the API reads no consent cookie), the document with the
# editors' hit counters (one script call) — plus, for a visitor token, the erasure check.
REDIS_BUDGETS = {"visitor token": 4, "member": 3, "member with a visitor token": 4}


@needs_redis
@pytest.mark.parametrize("kind", list(REDIS_BUDGETS))
@pytest.mark.parametrize("path", ["/dogs/", "/"])
def test_a_hit_makes_a_fixed_few_redis_round_trips(kind, path):
    api = caller(kind)
    find(api, path)
    find(api, path)
    with redis_round_trips() as trips:
        response = find(api, path)
    assert response[HEADER] == "hit"
    assert 1 <= len(trips) <= REDIS_BUDGETS[kind], trips.commands
    names = ("version", "token", "generation", "catalogue")  # the first key the command names
    tokens = [t for t in trips.commands if any(name in t for name in names)]
    assert len(tokens) == 1, trips.commands  # each version token read once, all together


def test_the_stored_document_holds_no_visitor_data(page_of_holes):
    """What is kept in the shared cache: markers and payloads, no name, message or state."""
    from django.core.cache import cache

    member, visitor = member_with_a_message("Aiko", "aiko@example.com")
    document = ok(find(api_as(visitor.uuid, user=member), page_of_holes.url))
    assert "Only-for-Aiko" in json.dumps(document)
    kept = [cache.get(name) for name in _cache_keys("render:json:*")]
    assert kept and all(isinstance(render, store.Render) for render in kept)
    for render in kept:
        stored = json.dumps([render.body, render.holes], default=str)
        assert "Aiko" not in stored and "Only-for" not in stored and MARKER in stored
        assert '"capped": true' not in stored and '"answered": true' not in stored


def _cache_keys(pattern: str) -> list[str]:
    """The names (without the cache's prefix and version) of the cache's entries matching."""
    import fnmatch

    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    made = cache.make_key("")
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=False)
        names = [k.decode() for k in client.scan_iter(match=f"{made}{pattern}")]
    else:
        names = [k for k in cache._cache if fnmatch.fnmatch(k, f"{made}{pattern}")]
    return [name.removeprefix(made) for name in names]
