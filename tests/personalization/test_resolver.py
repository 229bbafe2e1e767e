"""The resolver: shared-clause evaluation agrees with testing each segment whole, segment
changes reach every process through the version token, and priority orders the result."""

from __future__ import annotations

import random

import pytest
from django.core.cache import cache

from personalization.conditions import compile_condition
from personalization.models import Segment, SegmentSetVersion
from personalization.resolver import (
    VERSION_CACHE_KEY,
    CompiledSegment,
    SegmentSet,
    active_segments,
    matching_segments,
)

ATTRIBUTE_VALUES = {
    "age": [19, 25, 33, 47, None],
    "region": ["tokyo", "osaka", "overseas"],
    "device": ["mobile", "desktop"],
    "traits.pet": ["dog", "cat"],
    "views.section.dogs": [0, 2, 5],
}


def random_clause(rng: random.Random) -> dict:
    key = rng.choice(list(ATTRIBUTE_VALUES))
    value = rng.choice([v for v in ATTRIBUTE_VALUES[key] if v is not None])
    op = (
        rng.choice(["$eq", "$ne", "$gte", "$lt", "$in"])
        if isinstance(value, int)
        else rng.choice(["$eq", "$ne", "$in"])
    )
    return {key: {op: [value] if op == "$in" else value}}


def random_condition(rng: random.Random) -> dict:
    shape = rng.randrange(5)
    clauses = [random_clause(rng) for _ in range(rng.randint(1, 4))]
    if shape == 4:  # not of the shared-clause shape: tested whole
        return (
            {"$or": [{"$and": clauses}, random_clause(rng)]} if rng.random() < 0.5 else clauses[0]
        )
    return {["$and", "$or", "$nor", "$and"][shape]: clauses}


def random_attributes(rng: random.Random) -> dict:
    attributes: dict = {"traits": {}, "views": {"section": {}}}
    for key, values in ATTRIBUTE_VALUES.items():
        value = rng.choice(values)
        if value is None:
            continue
        *parents, last = key.split(".")
        target = attributes
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return attributes


@pytest.mark.parametrize("seed", range(25))
def test_shared_clause_plan_agrees_with_each_condition_tested_whole(seed):
    rng = random.Random(seed)
    conditions = [random_condition(rng) for _ in range(60)]
    compiled = tuple(
        CompiledSegment(i, f"s{i}", f"S{i}", -i, compile_condition(c), c)
        for i, c in enumerate(conditions)
    )
    segment_set = SegmentSet.build("t", compiled)
    for _ in range(40):
        attributes = random_attributes(rng)
        expected = tuple(s.id for s in compiled if s.test(attributes))
        assert matching_segments(attributes, segment_set) == expected


@pytest.mark.django_db
def test_a_change_in_another_process_is_seen_through_the_version_token():
    before = active_segments()
    # Another process saved a segment: the database token changed, the shared cache too.
    Segment.objects.bulk_create(
        [Segment(name="Elsewhere", slug="elsewhere", priority=1000, condition={"device": "mobile"})]
    )
    SegmentSetVersion.objects.update_or_create(pk=1, defaults={"token": "other-process"})
    cache.set(VERSION_CACHE_KEY, "other-process")
    after = active_segments()
    assert after is not before
    assert after.segments[0].slug == "elsewhere"  # highest priority first


@pytest.mark.django_db
def test_with_a_cold_cache_the_token_is_read_from_the_database():
    active_segments()
    SegmentSetVersion.objects.update_or_create(pk=1, defaults={"token": "from-db"})
    cache.delete(VERSION_CACHE_KEY)
    assert active_segments().version == "from-db"


@pytest.mark.django_db
def test_saving_a_segment_recompiles_and_disabling_removes_it():
    segment = Segment.objects.get(slug="mobile-visitors")
    assert segment.pk in active_segments().by_id
    segment.enabled = False
    segment.save()
    assert segment.pk not in active_segments().by_id


@pytest.mark.django_db
def test_with_personalization_withheld_nothing_about_the_visitor_is_read(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject

    from personalization.resolver import resolve

    request = rf.get("/")
    request.user = AnonymousUser()
    request.personalization_consent = False
    request.visitor = SimpleLazyObject(lambda: pytest.fail("the visitor was loaded"))
    resolution = resolve(request)
    assert resolution.segment_ids == () and resolution.attributes == {}
