"""Personalization holdouts on the serving path (issue 16 §4): visitors a segment matches are
held out at the configured share — the default content, on the site and in the API alike, sticky
across requests — and recorded as exposures of the arm they saw; nobody else is recorded."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments.holdouts import DEFAULT_ARM, PERSONALIZED_ARM, held_out, holdout_for
from experiments.models import Assignment, Exposure
from personalization.models import Consent, Segment, Visitor
from tests.api.helpers import api_as
from tests.experiments.holdout_helpers import (
    browse_as_uuid,
    make_holdout,
    publish_personalized_page,
    shown,
    visitor_uuid,
)

pytestmark = pytest.mark.django_db
VISITORS = 120


@pytest.fixture
def dog_people():
    return Segment.objects.get(slug="dog-people")


@pytest.fixture
def page(dog_people):
    return publish_personalized_page("holdout-page", [dog_people])


def dog_owner(number: int) -> Visitor:
    return Visitor.objects.create(uuid=visitor_uuid(number), traits={"pet": "dog"})


def visit(client, page, uuid_, channel: str) -> tuple[str, dict]:
    """(what the block showed, the block's `chosen` meta — {} on the site)."""
    if channel == "site":
        browse_as_uuid(client, uuid_)
        response = client.get(page.url)
        assert response.status_code == 200
        return shown(response.content.decode()), {}
    response = api_as(uuid_).get(f"/api/v1/pages/{page.pk}/")
    assert response.status_code == 200
    block = response.json()["body"][0]
    return shown(json.dumps(block["value"])), block["chosen"]


def test_held_out_visitors_get_the_default_on_the_site_and_in_the_api_sticky_at_the_share(
    client, page, dog_people, run_jobs
):
    holdout = make_holdout(dog_people, 0.5)
    served: dict = {}
    with run_jobs():
        for number in range(VISITORS):
            uuid_ = dog_owner(number).uuid
            visits = [visit(client, page, uuid_, channel) for channel in ("site", "api", "site")]
            arms = {arm for arm, _meta in visits}
            assert len(arms) == 1, (uuid_, visits)  # the same on the site and in the API
            served[uuid_] = (arms.pop(), visits[1][1])
    held = [u for u, (arm, _meta) in served.items() if arm == "default"]
    assert 0.35 * VISITORS < len(held) < 0.65 * VISITORS  # 50 % share, fixed visitors
    for arm, meta in served.values():
        if arm == "default":
            assert meta == {"segment": None, "held_out": dog_people.pk}
        else:
            assert meta == {"segment": dog_people.pk}
    exposures = dict(
        Exposure.objects.filter(experiment=holdout).values_list("visitor__uuid", "variant__name")
    )
    assert len(exposures) == VISITORS  # one per visitor, in both arms
    expected = {
        u: DEFAULT_ARM if arm == "default" else PERSONALIZED_ARM for u, (arm, _m) in served.items()
    }
    assert exposures == expected
    # later visits follow the stored assignment
    with run_jobs():
        for uuid_ in list(served)[:10]:
            assert visit(client, page, uuid_, "api")[0] == served[uuid_][0]
    assert Exposure.objects.filter(experiment=holdout).count() == VISITORS


def test_a_visitor_the_segment_does_not_match_records_nothing(client, page, dog_people, run_jobs):
    holdout = make_holdout(dog_people, 0.5)
    with run_jobs():
        for number in range(20):
            uuid_ = Visitor.objects.create(uuid=visitor_uuid(1000 + number)).uuid
            assert visit(client, page, uuid_, "site")[0] == "default"
            assert visit(client, page, uuid_, "api") == ("default", {"segment": None})
    assert not Exposure.objects.filter(experiment=holdout).exists()
    assert not Assignment.objects.filter(experiment=holdout).exists()


def test_without_personalization_consent_nothing_is_recorded_and_default_is_served(
    client, page, dog_people, run_jobs
):
    holdout = make_holdout(dog_people, 0.5)
    with run_jobs():
        for number in range(20):
            uuid_ = dog_owner(2000 + number).uuid
            Consent.objects.create(visitor_uuid=uuid_, personalization=False)  # the API's record
            browse_as_uuid(client, uuid_, personalization=False)  # the site's cookie
            response = client.get(page.url)
            assert shown(response.content.decode()) == "default"
            assert visit(client, page, uuid_, "api") == ("default", {"segment": None})
    assert not Exposure.objects.filter(experiment=holdout).exists()


def test_the_global_holdout_holds_out_of_every_segment_without_its_own(
    client, page, dog_people, run_jobs
):
    everyone = make_holdout(None, 0.5)
    arms = set()
    with run_jobs():
        for number in range(40):
            uuid_ = dog_owner(3000 + number).uuid
            arm, meta = visit(client, page, uuid_, "api")
            assert visit(client, page, uuid_, "site")[0] == arm
            arms.add(arm)
    assert arms == {"default", "personalized"}
    assert Exposure.objects.filter(experiment=everyone).count() == 40
    assert set(
        Exposure.objects.filter(experiment=everyone).values_list("variant__name", flat=True)
    ) == {DEFAULT_ARM, PERSONALIZED_ARM}


def test_a_segments_own_holdout_wins_over_the_global_one(dog_people):
    everyone = make_holdout(None, 0.05)
    own = make_holdout(dog_people, 0.2)
    other = Segment.objects.get(slug="mobile-visitors")
    assert holdout_for(dog_people.pk).id == own.pk
    assert holdout_for(other.pk).id == everyone.pk
    own.pause()
    assert holdout_for(dog_people.pk).id == everyone.pk


def test_previews_never_hold_out(rf, dog_people):
    make_holdout(dog_people, 0.5)
    request = rf.get("/")
    request.visitor = Visitor.objects.create(traits={"pet": "dog"})
    request.visitor_uuid = request.visitor.uuid
    request.is_preview = True
    assert held_out(request, dog_people.pk) is False


def test_a_draft_or_stopped_holdout_holds_nobody_out(client, page, dog_people, run_jobs):
    draft = make_holdout(dog_people, 0.5, start=False)
    with run_jobs():
        for number in range(20):
            uuid_ = dog_owner(4000 + number).uuid
            assert visit(client, page, uuid_, "site")[0] == "personalized"
    assert not Exposure.objects.filter(experiment=draft).exists()


def queries_for(client, url: str) -> int:
    client.get(url)  # warm: compiled segments, the registry, the visitor's row
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_a_holdout_adds_at_most_one_query_whatever_the_number_of_segments(client, dog_people):
    """The registry is in-process; the visitor's stored assignments are one memoized query."""
    segments = [dog_people, *Segment.objects.exclude(pk=dog_people.pk).order_by("pk")[:9]]
    one = publish_personalized_page("one-segment", [dog_people]).url
    ten_variants = publish_personalized_page("ten-segments", segments)
    browse_as_uuid(client, dog_owner(5000).uuid)
    without = queries_for(client, one)
    for segment in segments:
        make_holdout(segment, 0.5)
    with_one = queries_for(client, one)
    with_ten = queries_for(client, ten_variants.url)
    assert with_one <= without + 1
    assert with_ten == with_one
