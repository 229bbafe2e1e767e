"""The render cache's cost per page (issue 17 §5): hits, misses and distinct keys counted per page
and day, in Redis (one script call) or, with the embedded local-memory cache, in the process;
the possible combinations of a page's keys; and the editor's "Personalization" tab."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from freezegun import freeze_time

from cms.models import ContentPage, SectionPage
from cms.panels import format_count
from cms.render_cache import stats
from cms.render_cache.keys import PersonalizationKey
from cms.render_cache.middleware import HEADER
from experiments.registry import running_experiments
from personalization.models import Segment, Visitor
from tests.experiments.holdout_helpers import personalized_block
from tests.experiments.variant_helpers import ab_block, make_experiment, publish_body
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["locmem", "redis"])
def counting_cache(request, settings):
    """The project's two caches: local memory (the embedded default) and the Redis cache of
    REDIS_URL, under a key prefix of this test's own (deleted after it)."""
    if request.param == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        stats.local_counters.clear()
        yield request.param
        stats.local_counters.clear()
        return
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: the Redis counters need a Redis server")
    prefix = f"stats-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    yield request.param
    client = caches["default"]._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def key(*, seg: str = "1", rev: int = 1, segver: str = "v1", lang: str = "en"):
    """A personalization key shaped like `keys.personalization_key`'s."""
    return PersonalizationKey(
        (
            "page=7",
            f"rev={rev}",
            f"segver={segver}",
            "expver=x",
            f"seg={seg}",
            "exp=",
            "holdout=",
            "consent=r111",
            f"lang={lang}",
            "admitted=",
        )
    )


def today(page_id: int) -> stats.DayCounts:
    counts = stats.page_counts(page_id=page_id)
    assert counts is not None
    return counts[0]


# COUNTERS
# ------------------------------------------------------------------------------


def test_hits_and_misses_are_counted_per_page(counting_cache):
    for _ in range(5):
        stats.render_served(page_id=7, key=key(), hit=True)
    for _ in range(2):
        stats.render_served(page_id=7, key=key(), hit=False)
    stats.render_served(page_id=8, key=key(), hit=False)
    counts = today(7)
    assert (counts.hits, counts.misses, counts.requests) == (5, 2, 7)
    assert counts.hit_rate == pytest.approx(5 / 7)
    assert (today(8).hits, today(8).misses) == (0, 1)
    assert today(9) == stats.DayCounts(stats.site_today())
    assert today(9).hit_rate is None


def test_distinct_keys_count_visitor_combinations_not_revisions(counting_cache):
    for seg in ("10", "01", "11", "10", "10"):
        stats.render_served(page_id=7, key=key(seg=seg), hit=True)
    assert today(7).keys == 3
    # A publish or a segment edit: new cache entries (misses), the same kinds of visitor.
    stats.render_served(page_id=7, key=key(seg="10", rev=2, segver="v2"), hit=False)
    assert today(7).keys == 3
    stats.render_served(page_id=7, key=key(seg="10", lang="ja"), hit=False)
    assert today(7).keys == 4


def test_hundreds_of_distinct_keys_are_counted_closely(counting_cache):
    for number in range(300):
        stats.render_served(page_id=7, key=key(seg=format(number, "b")), hit=False)
    assert 297 <= today(7).keys <= 303  # HyperLogLog: ±0.81 % standard error


def test_days_are_counted_apart_in_the_site_time_zone(counting_cache, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    with freeze_time("2025-03-01 14:30:00+00:00"):  # 23:30 in Tokyo, March 1st
        stats.render_served(page_id=7, key=key(seg="1"), hit=False)
        stats.render_served(page_id=7, key=key(seg="0"), hit=True)
    with freeze_time("2025-03-01 15:30:00+00:00"):  # 00:30 in Tokyo, March 2nd
        stats.render_served(page_id=7, key=key(seg="1"), hit=True)
        counted_today, counted_yesterday = stats.page_counts(page_id=7)
    assert counted_today.day.isoformat() == "2025-03-02"
    assert (counted_today.hits, counted_today.misses, counted_today.keys) == (1, 0, 1)
    assert counted_yesterday.day == counted_today.day - timedelta(days=1)
    assert (counted_yesterday.hits, counted_yesterday.misses, counted_yesterday.keys) == (1, 1, 2)


def test_redis_counters_expire_after_about_two_days(counting_cache):
    if counting_cache != "redis":
        assert stats.COUNTER_TTL == 2 * 24 * 3600
        return
    stats.render_served(page_id=7, key=key(), hit=True)
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    for name in ("hits", "keys"):
        full = cache.make_key(f"render:stats:7:{stats.site_today().isoformat()}:{name}")
        assert 0 < client.ttl(full) <= stats.COUNTER_TTL


def test_the_local_counters_keep_only_today_and_yesterday():
    counters = stats.LocalCounters()
    day = stats.site_today()
    for offset in (3, 1, 0):
        counters.count(day=day - timedelta(days=offset), page_id=7, combination="a", hit=True)
    assert counters.read(day=day - timedelta(days=3), page_id=7).hits == 0
    assert counters.read(day=day - timedelta(days=1), page_id=7).hits == 1
    assert counters.read(day=day, page_id=7).hits == 1


def test_a_local_set_stops_growing_at_its_limit():
    counters = stats.LocalCounters(max_keys=3)
    day = stats.site_today()
    for combination in "abcde":
        counters.count(day=day, page_id=7, combination=combination, hit=False)
    assert counters.read(day=day, page_id=7) == stats.DayCounts(day, misses=5, keys=3)


def visitor_client(**traits) -> Client:
    client = Client()
    browse_as(client, Visitor.objects.create(uuid=uuid.uuid4(), traits=traits))
    return client


def test_serving_a_page_counts_its_misses_hits_and_keys(counting_cache):
    page = SectionPage.objects.get(slug="dogs")
    served = [visitor_client(pet="dog").get("/dogs/") for _ in range(3)]
    served.append(visitor_client(pet="cat").get("/dogs/"))
    assert [r[HEADER] for r in served] == ["miss", "hit", "hit", "miss"]
    counts = today(page.pk)
    assert (counts.hits, counts.misses, counts.keys) == (2, 2, 2)


def test_a_redis_that_does_not_answer_counts_nothing_and_fails_nothing(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "KEY_PREFIX": f"stats-down-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 0.2, "down_seconds": 60},
        }
    }
    from config.cache import redis_outages_reset

    redis_outages_reset()
    try:
        stats.render_served(page_id=7, key=key(), hit=True)
        assert stats.page_counts(page_id=7) is None
        response = visitor_client(pet="dog").get("/dogs/")
        assert response.status_code == 200
    finally:
        redis_outages_reset()


# POSSIBLE COMBINATIONS
# ------------------------------------------------------------------------------


def factor(combinations: stats.Combinations, name: str) -> tuple[int, int]:
    found = next(f for f in combinations.factors if f.name == name)
    return found.keys, found.contents


def test_a_page_without_personalization_varies_only_by_consent():
    combinations = stats.possible_combinations(consent_states=(9, 2))
    assert (combinations.keys, combinations.contents) == (9, 2)


def test_one_block_of_segments_has_a_key_per_subset_but_one_body_per_segment():
    combinations = stats.possible_combinations(segment_blocks=[(1, 2, 3)], consent_states=(1, 1))
    assert factor(combinations, "segments") == (8, 4)  # 2³ keys; a variant each or the default
    assert (combinations.keys, combinations.contents) == (8, 4)


def test_blocks_multiply_their_bodies_but_never_past_the_keys():
    apart = stats.possible_combinations(segment_blocks=[(1, 2), (3,)])
    assert factor(apart, "segments") == (8, 6)
    same_segments = stats.possible_combinations(segment_blocks=[(1, 2), (2, 1)])
    assert factor(same_segments, "segments") == (4, 4)  # 3 × 3 bodies, but only 4 keys


def test_twenty_segments_in_one_block_is_a_million_keys_for_21_bodies():
    combinations = stats.possible_combinations(segment_blocks=[tuple(range(20))])
    assert factor(combinations, "segments") == (2**20, 21)


def test_a_holdout_multiplies_a_matched_segment_by_its_arms():
    combinations = stats.possible_combinations(segment_blocks=[(1, 2)], holdout_arms={1: 3})
    assert factor(combinations, "segments") == ((1 + 3) * 2, 3)


def test_experiments_languages_and_private_children_multiply():
    combinations = stats.possible_combinations(
        segment_blocks=[(1,)],
        experiment_arms=[(3, 2), (1, 1)],
        consent_states=(9, 2),
        languages=2,
        restrictions_below=1,
    )
    assert factor(combinations, "experiments") == (3, 2)
    assert combinations.keys == 2 * 3 * 9 * 2 * 2
    assert combinations.contents == 2 * 2 * 2 * 2 * 2


def test_an_experiment_that_can_leave_visitors_out_has_an_uncounted_control_in_the_key():
    make_experiment("everyone", ["control", "b", "c"]).start()
    make_experiment("half", ["control", "b"], coverage=0.5).start()
    registry = running_experiments()
    assert stats.experiment_arms(registry.by_key["everyone"]) == (3, 3)
    assert stats.experiment_arms(registry.by_key["half"]) == (3, 2)


def test_consent_has_nine_key_states_and_two_bodies():
    assert stats.consent_states() == (9, 2)


def many_segments(count: int) -> list[Segment]:
    return [
        Segment.objects.create(name=f"Cost segment {n}", slug=f"cost-segment-{n}")
        for n in range(count)
    ]


def test_the_combinations_of_a_published_page():
    segments = many_segments(3)
    make_experiment("cost-ab", ["control", "b"]).start()
    page = ContentPage.objects.get(slug="choosing-dog-food")
    publish_body(page, [personalized_block(segments[:2]), personalized_block(segments[2:])])
    live = ContentPage.objects.get(pk=page.pk)
    combinations = stats.page_combinations(live)
    assert factor(combinations, "segments") == (8, 6)
    publish_body(page, [personalized_block(segments), ab_block("cost-ab", ["control", "b"])])
    combinations = stats.page_combinations(ContentPage.objects.get(pk=page.pk))
    assert factor(combinations, "segments") == (8, 4)
    assert factor(combinations, "experiments") == (2, 2)


def test_large_counts_are_shown_as_powers_of_ten():
    assert format_count(1_048_576) == "1,048,576"
    assert format_count(2**100) == "≈ 1.3 × 10^30"


# THE EDITOR'S TAB
# ------------------------------------------------------------------------------


def edit_view(client, page) -> str:
    response = client.get(f"/admin/pages/{page.pk}/edit/")
    assert response.status_code == 200
    return response.content.decode()


def panel_of(html: str) -> str:
    found = re.search(r'<section class="personalization-cost".*?</section>', html, re.S)
    assert found, "no Personalization panel on the edit view"
    return found.group(0)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_editor_sees_keys_hit_rate_and_a_warning_for_a_page_of_many_segments(
    admin_client, counting_cache, settings
):
    settings.RENDER_CACHE_KEYS_WARNING = 64
    segments = many_segments(8)
    page = ContentPage.objects.get(slug="choosing-dog-food")
    publish_body(page, [personalized_block(segments)])
    dog = visitor_client(pet="dog")
    for client in (dog, dog, dog, visitor_client(pet="cat")):
        assert client.get(page.url).status_code == 200

    html = edit_view(admin_client, page)
    assert ">Personalization<" in html  # the tab
    panel = panel_of(html)
    text = text_of(panel)
    assert 'data-over="true"' in panel
    assert "more than 64 different combinations" in text
    assert "use fewer segments on this page, merge segments" in text
    for segment in segments:
        assert f'/admin/personalization/segments/edit/{segment.pk}/">{segment.name}</a>' in panel
    today_row = re.search(r'<tr class="today">.*?</tr>', panel, re.S).group(0)
    assert re.search(r'class="keys">1<', today_row)  # dogs and cats match none of them
    assert re.search(r'class="views">4<', today_row)
    assert re.search(r'class="rate">75%<', today_row)
    keys = 2**8 * 9  # every subset of the 8 segments, × the consent states
    assert f'<span class="keys">{format_count(keys)}</span>' in panel
    assert '<span class="contents">18</span>' in panel  # 9 variants × the banner or not


def test_a_page_with_little_personalization_has_no_warning(admin_client):
    page = ContentPage.objects.get(slug="choosing-dog-food")
    publish_body(page, [personalized_block([Segment.objects.get(slug="dog-people")])])
    panel = panel_of(edit_view(admin_client, page))
    assert 'data-over="false"' in panel
    assert "different combinations of visitor" not in panel
    assert "Dog people" in panel or Segment.objects.get(slug="dog-people").name in panel


def test_a_draft_shows_what_it_will_cost_once_published(admin_client):
    page = ContentPage.objects.get(slug="choosing-dog-food")
    publish_body(page, [])
    page = page.specific
    page.body = [personalized_block(many_segments(7))]
    page.save_revision()
    panel = panel_of(edit_view(admin_client, page))
    assert 'data-over="true"' in panel
    live = re.search(r'<div class="personalization-estimate live">.*?</div>', panel, re.S)
    draft = re.search(r'<div class="personalization-estimate draft over">.*?</div>', panel, re.S)
    assert '<span class="keys">9</span>' in live.group(0)
    assert f'<span class="keys">{format_count(2**7 * 9)}</span>' in draft.group(0)


def test_a_new_page_shows_the_tab_before_it_is_saved(admin_client):
    parent = SectionPage.objects.get(slug="dogs")
    response = admin_client.get(f"/admin/pages/add/cms/contentpage/{parent.pk}/")
    assert response.status_code == 200
    text = text_of(panel_of(response.content.decode()))
    assert "This page is not live yet" in text
    assert "up to 9 keys" in text  # the consent states alone
