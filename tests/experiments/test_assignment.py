"""Assignment through the site: sticky when weights change, control for visitors outside the
targeting or coverage (not counted), block experiments inside per-segment content, and
conversions exactly once (a database constraint), also under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cms.models import SectionPage
from experiments.bucketing import assign
from experiments.models import Conversion, Experiment, Exposure, Goal, GoalKind, Variant
from experiments.services import conversion_record, exposure_record
from personalization.events.models import Event, EventType
from personalization.models import Segment, Visitor
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db
CONTROL_HERO = "Everything your pet loves, picked for you"
VARIANT_HERO = "Food, care and play your pet will love"


def visitor_in(variant_index: int, seed="home-hero") -> Visitor:
    """A stored visitor whose hash puts them in `variant_index` at 50/50."""
    for _ in range(200):
        visitor = Visitor.objects.create()
        if assign(seed=seed, visitor_id=str(visitor.uuid), weights=[0.5, 0.5]) == variant_index:
            return visitor
        visitor.delete()
    raise AssertionError("no visitor found")


def test_a_stored_assignment_wins_when_weights_change(client, run_jobs):
    visitor = visitor_in(1)
    browse_as(client, visitor)
    with run_jobs():
        assert VARIANT_HERO in client.get("/").content.decode()
    experiment = Experiment.objects.get(key="home-hero")
    Variant.objects.filter(experiment=experiment, name="control").update(weight=1.0)
    Variant.objects.filter(experiment=experiment, name="member-benefits").update(weight=0.0)
    experiment.save()  # bumps the registry, as the admin does
    assert VARIANT_HERO in client.get("/").content.decode()  # no reshuffle
    newcomer = visitor_in(1)
    browse_as(client, newcomer)
    assert CONTROL_HERO in client.get("/").content.decode()  # new visitors follow new weights


def test_visitors_outside_the_targeting_see_control_and_are_not_counted(client, run_jobs):
    experiment = Experiment.objects.get(key="home-hero")
    experiment.target_segments.set([Segment.objects.get(slug="mobile-visitors")])
    experiment.save()
    visitor = visitor_in(1)
    browse_as(client, visitor)
    with run_jobs():
        assert CONTROL_HERO in client.get("/").content.decode()
    assert not Exposure.objects.exists()
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1"
    with run_jobs():
        assert VARIANT_HERO in client.get("/", HTTP_USER_AGENT=iphone).content.decode()
    assert Exposure.objects.get().visitor == visitor


def test_visitors_outside_the_coverage_see_control_and_are_not_counted(client, run_jobs):
    experiment = Experiment.objects.get(key="home-hero")
    experiment.coverage = 0.01
    experiment.save()
    outside = next(
        v
        for v in (Visitor.objects.create() for _ in range(50))
        if assign(seed="home-hero", visitor_id=str(v.uuid), weights=[0.5, 0.5], coverage=0.01)
        is None
    )
    browse_as(client, outside)
    with run_jobs():
        assert CONTROL_HERO in client.get("/").content.decode()
    assert not Exposure.objects.exists()


def test_a_paused_experiment_shows_everyone_the_control(client):
    Experiment.objects.get(key="home-hero").pause()
    browse_as(client, visitor_in(1))
    assert CONTROL_HERO in client.get("/").content.decode()


def test_a_block_experiment_inside_a_segment_variant(client, run_jobs):
    experiment = Experiment.objects.create(key="dog-tip", name="Dog tip wording")
    Variant.objects.create(experiment=experiment, name="control", weight=0.5, sort_order=0)
    Variant.objects.create(experiment=experiment, name="short", weight=0.5, sort_order=1)
    Goal.objects.create(
        experiment=experiment,
        name="Read puppy kit",
        is_primary=True,
        kind=GoalKind.PAGE_VISIT,
        page=SectionPage.objects.get(slug="dogs").get_children().get(slug="puppy-starter-kit"),
    )
    experiment.start()
    dogs = SectionPage.objects.get(slug="dogs")
    body = list(dogs.body.raw_data)
    item = body[0]["value"]["variants"][0]  # the dog-people variant (ListBlock item)
    variant = item.get("value", item)
    variant["content"].append(
        {
            "type": "experiment",
            "value": {
                "experiment": "dog-tip",
                "variants": [
                    {
                        "variant": "control",
                        "content": [{"type": "paragraph", "value": "<p>Long tip</p>"}],
                    },
                    {
                        "variant": "short",
                        "content": [{"type": "paragraph", "value": "<p>Short tip</p>"}],
                    },
                ],
            },
        }
    )
    dogs.body = body
    dogs.save_revision().publish()
    dog_person = visitor_in(1, seed="dog-tip")
    dog_person.traits = {"pet": "dog"}
    dog_person.save()
    browse_as(client, dog_person)
    with run_jobs():
        html = client.get("/dogs/").content.decode()
        assert "Short tip" in html and 'data-variant="short"' in html
        client.get("/dogs/puppy-starter-kit/")
    exposure = Exposure.objects.get(experiment=experiment)
    assert exposure.visitor == dog_person and exposure.variant.name == "short"
    assert Conversion.objects.get(experiment=experiment).variant.name == "short"


def test_a_goal_event_stored_before_its_exposure_still_converts(run_jobs):
    experiment = Experiment.objects.get(key="home-hero")
    visitor = Visitor.objects.create()
    variant = experiment.variants.get(name="member-benefits")
    from django.utils import timezone

    exposed_at = timezone.now()
    Event.objects.create(visitor=visitor, type=EventType.SIGN_UP, occurred_at=exposed_at)
    exposure_record(
        experiment_id=experiment.pk,
        variant_id=variant.pk,
        visitor=str(visitor.uuid),
        at=(exposed_at - timezone.timedelta(seconds=1)).isoformat(),
    )
    assert Conversion.objects.get(visitor=visitor).goal.name == "Sign-up"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set by .ci/run)")
def test_20_parallel_conversions_for_one_visitor_and_goal_store_exactly_one():
    from django.core.management import call_command

    call_command("load_demo", "--no-progress", verbosity=0)
    experiment = Experiment.objects.get(key="home-hero")
    visitor = Visitor.objects.create()
    exposure = exposure_record(
        experiment_id=experiment.pk,
        variant_id=experiment.variants.first().pk,
        visitor=str(visitor.uuid),
    )
    event = Event.objects.create(visitor=visitor, type=EventType.SIGN_UP)
    goal = experiment.goals.get(name="Sign-up")
    barrier = threading.Barrier(20)
    outcomes = []

    def convert():
        try:
            barrier.wait()
            outcomes.append(conversion_record(exposure=exposure, goal_id=goal.pk, event=event))
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 19 + [True]
    assert Conversion.objects.filter(goal=goal, visitor=visitor).count() == 1
