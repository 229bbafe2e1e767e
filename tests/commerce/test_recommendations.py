"""Recommendations (issue 19): the rollups that feed them, the co-occurrence job, the ranking
with its exploration share, the arms recorded with impressions and clicks, the one-query budget,
the block on the site and in the API (which agree), the render cache's hole and the block as
an experiment's variants, and the per-block report."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from cms.models import ContentPage
from cms.recommendation_blocks import RecommendationsBlock, _fill_recommendations
from cms.render_cache.middleware import HEADER
from config.jobs import enqueue
from experiments.models import Exposure
from personalization.commerce.cooccurrence import product_pairs_rebuild, rebuild_product_pairs
from personalization.commerce.models import Product, ProductPair
from personalization.commerce.ranking import (
    KNOWN,
    OTHER,
    PAIRED,
    Candidate,
    explore_slots,
    rank,
    seed_of,
)
from personalization.commerce.recent import RECENT_PRODUCTS, recent_products_add
from personalization.commerce.recommend import recommendations_for, seed_number
from personalization.commerce.snapshot import (
    BUCKETS,
    Group,
    SeededOrder,
    catalogue_snapshot,
    first_of,
    fixed_number,
)
from personalization.events.models import Event, EventType
from personalization.events.recommendation_report import recommendation_report
from personalization.events.services import event_payload, events_ingest
from personalization.models import Consent, Visitor
from tests.api.helpers import api_as
from tests.commerce.test_admin import editor
from tests.experiments.variant_helpers import make_experiment, publish_body
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db

CATEGORIES = ("food", "toys", "beds", "care", "litter", "walking")
SKU = re.compile(r'data-recommendation-sku="([^"]+)"')
ARM = re.compile(r'data-recommendation-arm="([^"]+)"')


@pytest.fixture
def catalogue():
    """Only our products are active: three per category, for dogs, cats and every pet."""
    Product.objects.update(active=False)
    made = {}
    for category in CATEGORIES:
        for index, pet in enumerate(("dog", "cat", "any")):
            sku = f"T-{category}-{index}"
            made[sku] = Product.objects.create(
                sku=sku, name=f"{category} {pet}", category=category, pet_type=pet,
                price=1000 + index, stock=10,
            )  # fmt: skip
    return made


def today() -> str:
    return timezone.localdate().isoformat()


def days_ago(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def request_for(visitor: Visitor):
    request = RequestFactory().get("/")
    request.visitor = visitor
    request.visitor_uuid = visitor.uuid
    return request


def consented(visitor: Visitor) -> Visitor:
    Consent.objects.update_or_create(
        user=None,
        visitor_uuid=visitor.uuid,
        defaults={"analytics": True, "personalization": True, "marketing": True},
    )
    return visitor


def shoppers_who_pair(first: str, second: str, *, count: int = 3, bought: bool = False):
    for _ in range(count):
        history = {first: today(), second: today()}
        Visitor.objects.create(products_viewed=history, products_bought=history if bought else {})


# ROLLUPS
# ------------------------------------------------------------------------------


def test_product_views_and_purchases_keep_the_visitors_recent_products():
    visitor = Visitor.objects.create()
    start = timezone.now() - datetime.timedelta(hours=3)
    events_ingest(
        payloads=[
            event_payload(
                visitor_uuid=visitor.uuid, type=EventType.PAGE_VIEW, occurred_at=start,
            ),
            event_payload(
                visitor_uuid=visitor.uuid, type=EventType.PRODUCT_VIEW,
                properties={"sku": "T-food-0", "category": "food"},
                occurred_at=start + datetime.timedelta(minutes=1),
            ),
            # an hour later a new visit starts on a product page
            event_payload(
                visitor_uuid=visitor.uuid, type=EventType.PRODUCT_VIEW,
                properties={"sku": "T-toys-1", "category": "toys"},
                occurred_at=start + datetime.timedelta(hours=1),
            ),
            event_payload(
                visitor_uuid=visitor.uuid, type=EventType.PURCHASE,
                properties={"amount": 2000, "skus": ["T-food-0", "T-beds-2"]},
                occurred_at=start + datetime.timedelta(hours=1, minutes=5),
            ),
        ]
    )  # fmt: skip
    visitor.refresh_from_db()

    def day(moment) -> str:  # the site's day of an event (Tokyo): not always today's
        return timezone.localdate(moment).isoformat()

    viewed, bought = start + datetime.timedelta(minutes=1), start + datetime.timedelta(hours=1)
    assert visitor.products_viewed == {"T-food-0": day(viewed), "T-toys-1": day(bought)}
    assert visitor.products_bought == {"T-food-0": day(bought), "T-beds-2": day(bought)}
    assert visitor.page_view_count == 1  # a product view is not a page view
    assert visitor.visit_count == 2  # … but a visit that starts on a product page counts


def test_the_rollups_keep_only_the_most_recent_products():
    history = {f"OLD-{n:02d}": days_ago(10) for n in range(RECENT_PRODUCTS)}
    history["MID"] = days_ago(5)
    updated = recent_products_add(history, ["NEW"], today())
    assert len(updated) == RECENT_PRODUCTS
    assert updated["NEW"] == today() and updated["MID"] == days_ago(5)
    assert sum(sku.startswith("OLD-") for sku in updated) == RECENT_PRODUCTS - 2
    assert recent_products_add({"A": today()}, ["A"], days_ago(3)) == {"A": today()}


# THE CO-OCCURRENCE JOB
# ------------------------------------------------------------------------------


def test_the_periodic_job_builds_pairs_from_the_rollups_and_replaces_the_table(catalogue, run_jobs):
    food, toys, beds = catalogue["T-food-0"], catalogue["T-toys-0"], catalogue["T-beds-0"]
    ProductPair.objects.create(
        product=beds, other=food, viewed_together=9, score=1, computed_at=timezone.now()
    )
    shoppers_who_pair("T-food-0", "T-toys-0", count=3)
    shoppers_who_pair("T-food-0", "T-toys-0", count=1, bought=True)
    Visitor.objects.create(products_viewed={"T-food-0": today(), "T-beds-0": days_ago(45)})
    Visitor.objects.create(products_viewed={"T-food-0": today(), "T-beds-0": today()})
    with run_jobs():
        enqueue("reports", rebuild_product_pairs)  # an RQ worker with Redis, else embedded
    pairs = {
        (p.product.sku, p.other.sku): p
        for p in ProductPair.objects.select_related("product", "other")
    }
    assert set(pairs) == {
        ("T-food-0", "T-toys-0"),
        ("T-toys-0", "T-food-0"),
        ("T-food-0", "T-beds-0"),
        ("T-beds-0", "T-food-0"),
    }  # fmt: skip  (the old beds → food row is gone; the 45-day-old view is out of the window)
    food_toys = pairs[("T-food-0", "T-toys-0")]
    assert (food_toys.viewed_together, food_toys.bought_together) == (4, 1)
    assert pairs[("T-food-0", "T-beds-0")].viewed_together == 1
    # normalised: food and toys go together far more often than food and beds
    assert food_toys.score > pairs[("T-food-0", "T-beds-0")].score
    assert 0 < food_toys.score <= 1
    assert pairs[("T-toys-0", "T-food-0")].score == pytest.approx(food_toys.score)
    assert toys.pk and food.pk


def test_a_rebuild_with_no_history_leaves_an_empty_table(catalogue):
    ProductPair.objects.create(
        product=catalogue["T-food-0"], other=catalogue["T-toys-0"], computed_at=timezone.now()
    )
    Visitor.objects.update(products_viewed={}, products_bought={})
    assert product_pairs_rebuild() == 0
    assert not ProductPair.objects.exists()


# RANKING AND EXCLUSIONS
# ------------------------------------------------------------------------------


def test_paired_products_come_first_then_the_visitors_categories(catalogue):
    shoppers_who_pair("T-food-0", "T-walking-0", count=3)
    product_pairs_rebuild()
    visitor = Visitor.objects.create(
        products_viewed={"T-food-0": today()},
        categories_bought={"care": days_ago(20)},
        traits={"pet": "dog"},
    )
    items = recommendations_for(request_for(visitor), limit=4, exploration=0, block_id="b")
    assert items[0].sku == "T-walking-0" and items[0].arm == "exploit"
    assert {item.product.category for item in items[1:]} <= {"food", "care"}
    assert all(item.arm == "exploit" for item in items)
    assert all(item.product.pet_type in ("dog", "any") for item in items)  # the visitor's pet


def test_inactive_out_of_stock_just_bought_and_excluded_products_are_never_shown(catalogue):
    Product.objects.filter(sku="T-food-0").update(active=False)
    Product.objects.filter(sku="T-food-1").update(stock=0)
    visitor = Visitor.objects.create(
        products_viewed={"T-food-2": today()},
        products_bought={"T-toys-0": days_ago(2), "T-beds-0": days_ago(40)},
        categories_bought={"food": today(), "toys": today(), "beds": days_ago(40)},
    )
    items = recommendations_for(
        request_for(visitor), limit=18, exploration=0, block_id="b", exclude_skus=["T-care-2"]
    )
    shown = {item.sku for item in items}
    assert shown.isdisjoint({"T-food-0", "T-food-1", "T-toys-0", "T-care-2"})
    assert "T-beds-0" in shown  # bought long ago: recommended again
    assert len(shown) == len(items) == 18 - 4 + 0  # the 18 products less the 4 left out


def test_the_blocks_category_and_pet_filters_narrow_the_candidates(catalogue):
    visitor = Visitor.objects.create(traits={"pet": "dog"})
    items = recommendations_for(
        request_for(visitor), limit=5, exploration=0.5, block_id="b", category="toys", pet="cat"
    )
    assert {item.sku for item in items} == {"T-toys-1", "T-toys-2"}


# EXPLORATION
# ------------------------------------------------------------------------------


def test_the_exploration_share_fills_its_slots_from_other_categories(catalogue):
    visitor = Visitor.objects.create(categories_bought={"food": today(), "toys": today()})
    request = request_for(visitor)
    items = recommendations_for(request, limit=5, exploration=0.4, block_id="b")
    explore = [item for item in items if item.arm == "explore"]
    exploit = [item for item in items if item.arm == "exploit"]
    assert len(explore) == 2 and len(exploit) == 3
    assert all(item.product.category not in ("food", "toys") for item in explore)
    assert all(item.product.category in ("food", "toys") for item in exploit)
    none = recommendations_for(request_for(visitor), limit=5, exploration=0, block_id="b")
    assert all(item.arm == "exploit" for item in none)


def test_exploration_is_stable_within_a_day_and_changes_with_the_day_and_the_block(catalogue):
    visitor = Visitor.objects.create(categories_bought={"food": today()})

    def picks(day: datetime.date, block: str = "b") -> list[tuple[str, str]]:
        items = recommendations_for(
            request_for(visitor), limit=6, exploration=0.5, block_id=block, today=day
        )
        return [(item.sku, item.arm) for item in items]

    day = timezone.localdate()
    assert picks(day) == picks(day)  # a new request, the same page
    later = [picks(day + datetime.timedelta(days=n)) for n in range(1, 6)]
    assert any(other != picks(day) for other in later)
    assert any(picks(day, f"block-{n}") != picks(day) for n in range(5))


def test_the_share_of_exploring_slots_matches_the_setting_on_average():
    counts = [explore_slots(4, 0.1, seed_of("visitor", f"day-{n}", "b")) for n in range(2000)]
    assert set(counts) == {0, 1}
    assert sum(counts) / (4 * len(counts)) == pytest.approx(0.1, abs=0.02)
    assert explore_slots(10, 0.2, "any") == 2 and explore_slots(5, 0, "any") == 0


def test_a_visitor_we_know_nothing_about_sees_exploration_only():
    candidates = [Candidate(f"S{n}", "x", OTHER, jitter=f"{n:02d}") for n in range(6)]
    ranked = rank(candidates, limit=4, exploration=0.1, seed="s")
    assert [r.arm for r in ranked] == ["explore"] * 4
    known = [Candidate("K", "y", KNOWN, affinity=0.5), Candidate("P", "z", PAIRED, 0.9)]
    ranked = rank(known + candidates, limit=3, exploration=0, seed="s")
    # the paired product first, the known category next; the third slot has to explore
    assert [r.sku for r in ranked if r.arm == "exploit"] == ["P", "K"]
    assert [r.arm for r in ranked].count("explore") == 1


# ONE QUERY
# ------------------------------------------------------------------------------


def test_serving_recommendations_costs_one_query_once_the_visitor_is_loaded(catalogue):
    shoppers_who_pair("T-food-0", "T-toys-0")
    product_pairs_rebuild()
    loaded = Visitor.objects.create(
        products_viewed={"T-food-0": today()},
        products_bought={"T-beds-0": days_ago(30)},
        categories_bought={"care": today()},
        favourites_rollup={"T-litter-0": {"category": "litter", "pet": "dog"}},
        traits={"pet": "dog"},
    )
    visitor = Visitor.objects.select_related("user").get(pk=loaded.pk)
    request = request_for(visitor)
    catalogue_snapshot()  # this process's catalogue, built once per catalogue version (below)
    with CaptureQueriesContext(connection) as queries:
        items = recommendations_for(request, limit=8, exploration=0.25, block_id="b")
        again = recommendations_for(request, limit=8, exploration=0.25, block_id="b")
        other = recommendations_for(request, limit=4, exploration=0, block_id="another")
        for item in items:
            item.product.image  # noqa: B018 - loaded with the products
    assert len(queries) == 1, [q["sql"] for q in queries]  # the pairs: once per request
    assert '"commerce_productpair"' in queries[0]["sql"]
    assert again == items and len(items) == 8 and len(other) == 4
    best = next(item for item in items if item.arm == "exploit")  # the paired product
    assert best.sku == "T-toys-0" and best.product.name == "toys dog"


def test_the_first_request_after_a_catalogue_change_rebuilds_the_snapshot(
    catalogue, django_capture_on_commit_callbacks
):
    visitor = Visitor.objects.create(categories_bought={"toys": today()}, traits={"pet": "dog"})

    def shown() -> set[str]:
        items = recommendations_for(request_for(visitor), limit=12, exploration=0, block_id="b")
        return {item.sku for item in items}

    assert {"T-toys-0", "T-toys-2"} <= shown()
    before = catalogue_snapshot()
    product = catalogue["T-toys-0"]
    with django_capture_on_commit_callbacks(execute=True):  # the change commits: a new token
        product.stock = 0
        product.save()
    with CaptureQueriesContext(connection) as queries:
        after = shown()
    assert "T-toys-0" not in after and "T-toys-2" in after
    assert len(queries) == 1, [q["sql"] for q in queries]  # the rebuild (no pairs to ask for)
    assert catalogue_snapshot() is not before
    with CaptureQueriesContext(connection) as queries:
        assert shown() == after
    assert len(queries) == 0  # a visitor without products asks the database nothing


def test_the_seeded_order_reads_a_few_buckets_and_is_the_whole_pools_order():
    groups = [Group(), Group(), Group()]
    for n in range(20_000):
        sku = f"S-{n:05d}"
        member = (fixed_number(sku), sku, n)
        groups[n % 3].members.append(member)
        groups[n % 3].buckets.setdefault(member[0] % BUCKETS, []).append(member)
    order = SeededOrder(seed_number(seed_of("visitor", "2026-12-01", "b")))
    whole = sorted((order.jitter(fixed), sku, pid) for g in groups for fixed, sku, pid in g.members)
    assert first_of(groups, 24, set(), order) == whole[:24]
    # a product sold out leaves the others where they were
    gone = {whole[3][2], whole[10][2]}
    assert first_of(groups, 24, gone, order) == [w for w in whole if w[2] not in gone][:24]
    # a small pool is ordered whole, in the same order
    small = Group(members=[m for m in groups[0].members if m[2] < 60])
    expected = sorted((order.jitter(fixed), sku, pid) for fixed, sku, pid in small.members)
    assert first_of([small], 5, set(), order) == expected[:5]
    # other seeds, other selections
    tomorrow = SeededOrder(seed_number(seed_of("visitor", "2026-12-02", "b")))
    assert {p for *_, p in first_of(groups, 24, set(), tomorrow)} != {p for *_, p in whole[:24]}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_served_block_is_the_html_its_templates_render(catalogue, language):
    visitor = Visitor.objects.create(
        categories_bought={"food": today()},
        favourites_rollup={"T-food-1": {"category": "food", "pet": "cat"}},
    )
    settings = recommendations_value(limit=6, heading="Picked <for> you")
    csrf = re.compile(r'(data-csrf(?:-token)?=")[^"]*"')
    with translation.override(language):
        for _ in range(2):  # the cards rendered, then the kept ones
            request = request_for(visitor)
            served = _fill_recommendations(settings, request)
            items = RecommendationsBlock.items_for(settings, request)
            rendered = render_to_string(
                "blocks/recommendations_block.html",
                {"settings": settings, "items": items},
                request=request,
            )
            assert csrf.sub(r"\1", served) == csrf.sub(r"\1", rendered)
    assert len(SKU.findall(served)) == 6 and "T-food-1" in SKU.findall(served)
    assert served.count('aria-pressed="true"') == 1  # the visitor's own favourite
    assert ("円" in served) == (language == "ja")


# THE BLOCK: SITE, API, RENDER CACHE, EVENTS
# ------------------------------------------------------------------------------


def recommendations_value(**settings) -> dict:
    return {
        "heading": "Picked for you", "key": "test-picks", "limit": 4, "exploration": 25,
        "category": "", "pet_type": "", **settings,
    }  # fmt: skip


def block(**settings) -> dict:
    return {
        "type": "recommendations",
        "id": str(uuid.uuid4()),
        "value": recommendations_value(**settings),
    }


@pytest.fixture
def page(catalogue):
    page = ContentPage.objects.get(slug="choosing-dog-food")
    publish_body(page, [block()])
    return page.specific


def shopper(**rollups) -> tuple[Client, Visitor]:
    visitor = consented(Visitor.objects.create(**rollups))
    client = Client()
    browse_as(client, visitor)
    return client, visitor


def site_picks(client, path: str) -> tuple[object, list[tuple[str, str]]]:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    return response, list(zip(SKU.findall(html), ARM.findall(html), strict=True))


def api_picks(visitor: Visitor, path: str) -> list[tuple[str, str]]:
    response = api_as(visitor.uuid).get("/api/v1/pages/find/", {"path": path})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    value = next(b for b in body["body"] if b["type"] == "recommendations")["value"]
    meta = next(b for b in body["meta"]["blocks"] if b.get("type") == "recommendations")
    picks = [(item["product"]["sku"], item["arm"]) for item in value["items"]]
    assert [(item["sku"], item["arm"]) for item in meta["items"]] == picks
    assert value["items"][0]["product"]["url"].endswith(f"/products/{picks[0][0]}/")
    return picks


def test_two_visitors_get_their_own_recommendations_from_one_cached_page(page):
    dog_food, _ = shopper(
        categories_bought={"food": today()}, products_viewed={"T-food-0": today()}
    )
    cat_beds, _ = shopper(
        categories_bought={"beds": today()}, products_viewed={"T-beds-1": today()}
    )
    first, food_picks = site_picks(dog_food, page.url)
    second, bed_picks = site_picks(cat_beds, page.url)
    assert first[HEADER] == "miss" and second[HEADER] == "hit"
    assert {sku for sku, arm in food_picks if arm == "exploit"} <= {f"T-food-{n}" for n in range(3)}
    assert {sku for sku, arm in bed_picks if arm == "exploit"} <= {f"T-beds-{n}" for n in range(3)}
    assert food_picks != bed_picks
    _, again = site_picks(dog_food, page.url)
    assert again == food_picks  # stable within the visit, from the cache as well


def test_the_site_and_the_api_show_a_visitor_the_same_products(page):
    client, visitor = shopper(
        categories_bought={"toys": today()}, products_viewed={"T-walking-0": today()}
    )
    _, on_site = site_picks(client, page.url)
    assert len(on_site) == 4
    assert api_picks(visitor, page.url) == on_site
    assert api_picks(visitor, page.url) == on_site  # the API's cached document, filled again


def test_impressions_are_recorded_with_their_arm_and_block(page, run_jobs):
    client, visitor = shopper(categories_bought={"toys": today()})
    with run_jobs():
        _, shown = site_picks(client, page.url)
    recorded = Event.objects.filter(visitor=visitor, type=EventType.RECOMMENDATION_IMPRESSION)
    assert sorted((e.properties["sku"], e.properties["arm"]) for e in recorded) == sorted(shown)
    assert {e.properties["block"] for e in recorded} == {"test-picks"}


def test_a_click_reported_by_the_cards_script_is_accepted_and_stored(page, run_jobs):
    client, visitor = shopper()
    _, shown = site_picks(client, page.url)
    assert 'src="/static/cms/js/recommendations.js"' in client.get(page.url).content.decode()
    sku, arm = shown[0]
    with run_jobs():
        response = api_as(visitor.uuid).post(
            "/api/v1/events/",
            {
                "type": "recommendation_click",
                "properties": {"sku": sku, "arm": arm, "block": "test-picks"},
            },
            format="json",
        )
    assert response.status_code == 202, response.content
    click = Event.objects.get(visitor=visitor, type=EventType.RECOMMENDATION_CLICK)
    assert click.properties == {"sku": sku, "arm": arm, "block": "test-picks"}


def test_exploration_shares_are_an_experiments_variants(catalogue, run_jobs):
    from experiments.usage import experiment_start

    experiment = make_experiment("reco-share", ["none", "all"], weights=[0.5, 0.5])
    entries = [
        {
            "type": "item", "id": str(uuid.uuid4()),
            "value": {"variant": name, "content": [block(exploration=share)]},
        }
        for name, share in (("none", 0), ("all", 100))
    ]  # fmt: skip
    page = ContentPage.objects.get(slug="choosing-dog-food")
    body = {
        "type": "experiment",
        "id": str(uuid.uuid4()),
        "value": {"experiment": "reco-share", "variants": entries},
    }
    publish_body(page, [body])
    experiment_start(experiment=experiment)
    seen = {}
    for _ in range(12):
        client, visitor = shopper(categories_bought={"food": today(), "toys": today()})
        with run_jobs():
            _, picks = site_picks(client, page.url)
        variant = Exposure.objects.get(experiment=experiment, visitor=visitor).variant.name
        seen.setdefault(variant, set()).update(arm for _, arm in picks)
    assert seen == {"none": {"exploit"}, "all": {"explore"}}


# THE REPORT
# ------------------------------------------------------------------------------


def test_the_report_counts_impressions_clicks_and_purchases_after_a_click_per_arm(client):
    visitor, other = Visitor.objects.create(), Visitor.objects.create()
    now = timezone.now()

    def event(who, kind, minutes_ago, **properties):
        return event_payload(
            visitor_uuid=who.uuid, type=kind, properties=properties,
            occurred_at=now - datetime.timedelta(minutes=minutes_ago),
        )  # fmt: skip

    days9 = 60 * 24 * 9
    shows, clicks = "recommendation_impression", "recommendation_click"
    exploit = {"arm": "exploit", "block": "home-picks"}
    explore = {"arm": "explore", "block": "home-picks"}
    events_ingest(
        payloads=[
            *[event(visitor, shows, days9, sku=f"S{n}", **exploit) for n in range(3)],
            event(visitor, shows, days9, sku="X1", **explore),
            event(other, shows, days9, sku="X1", **explore),
            event(visitor, clicks, days9, sku="S1", **exploit),
            event(visitor, clicks, days9, sku="X1", **explore),
            event(other, clicks, days9, sku="X1", **explore),
            # S1 bought 2 days after its click: attributed; X1 bought 8 days after: not
            event(visitor, "purchase", 60 * 24 * 7, amount=1200, skus=["S1", "OTHER"]),
            event(other, "purchase", 60 * 24 * 1, amount=900, skus=["X1"]),
        ]
    )
    [report] = [b for b in recommendation_report(days=30) if b.block == "home-picks"]
    exploit_row, explore_row = report.rows
    assert (exploit_row.impressions, exploit_row.clicks, exploit_row.purchases) == (3, 1, 1)
    assert (explore_row.impressions, explore_row.clicks, explore_row.purchases) == (2, 2, 0)
    assert explore_row.ctr == 1.0 and exploit_row.ctr == pytest.approx(1 / 3)
    assert report.total.impressions == 5

    html = editor(client, "en").get("/admin/reports/recommendations/?days=30").content.decode()
    assert 'data-block="home-picks" data-arm="explore"' in html and "33.3 %" in html
    assert "/admin/reports/recommendations/" in editor(client, "en").get("/admin/").content.decode()
    html_ja = editor(client, "ja").get("/admin/reports/recommendations/").content.decode()
    assert "クリック率" in html_ja and "探索" in html_ja and "過去30日間" in html_ja


def test_an_anonymous_visitors_recent_products_join_the_members_on_log_in(member):
    from personalization.services import visitor_log_in

    mine = Visitor.objects.create(user=member, products_viewed={"A": days_ago(3), "B": days_ago(9)})
    browsing = Visitor.objects.create(
        products_viewed={"B": today(), "C": today()}, products_bought={"C": today()}
    )
    visitor_log_in(user=member, anonymous_uuid=browsing.uuid)
    mine.refresh_from_db()
    assert mine.products_viewed == {"A": days_ago(3), "B": today(), "C": today()}
    assert mine.products_bought == {"C": today()}


def test_without_personalization_consent_the_history_is_not_used(catalogue):
    visitor = Visitor.objects.create(
        categories_bought={"food": today()}, products_viewed={"T-food-0": today()}
    )
    request = request_for(visitor)
    request.personalization_consent = False
    items = recommendations_for(request, limit=4, exploration=0, block_id="b")
    assert len(items) == 4 and {item.arm for item in items} == {"explore"}


def test_the_report_is_for_staff_only(client, member):
    client.force_login(member)
    response = client.get("/admin/reports/recommendations/")
    assert response.status_code in (302, 403)
    assert b"data-recommendations-report" not in response.content
