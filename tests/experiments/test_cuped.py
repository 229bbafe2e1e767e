"""CUPED: when an exposure is stored, the goals its visitor had already reached in the window
before (default 14 days) are snapshot from their events — one query — so the report adjusts for
them without scanning events; the report uses compare(cuped=True) when that covariate exists."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from experiments.models import (
    Conversion,
    DailyAggregate,
    Experiment,
    Exposure,
    ExposureCovariate,
    SegmentAggregate,
)
from experiments.recording import exposure_record, visitor_experiments_merge
from experiments.selectors import experiment_report
from experiments.stats import Sample, compare
from personalization.events.models import Event
from personalization.models import Visitor
from tests.experiments.report_data import fill, running_experiment

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def event(visitor: Visitor, kind: str, days: float, **properties) -> Event:
    return Event.objects.create(
        visitor=visitor,
        type=kind,
        occurred_at=NOW + datetime.timedelta(days=days),
        properties=properties,
    )


def expose(experiment: Experiment, visitor: Visitor, segment_ids=()) -> Exposure:
    return exposure_record(
        experiment_id=experiment.pk,
        variant_id=experiment.variants.get(name="b").pk,
        visitor=str(visitor.uuid),
        segment_ids=list(segment_ids),
        at=NOW.isoformat(),
    )


@pytest.fixture
def experiment():
    return running_experiment(key="cuped", goals=("Sign-up", "Purchase", "Cart"))


def goals_of(rows) -> set[str]:
    return {row.goal.name for row in rows}


def test_the_exposure_snapshots_the_goals_reached_in_the_window_before_it(experiment):
    visitor = Visitor.objects.create()
    event(visitor, "purchase", -3, amount=1200)  # in the 14 days before: the covariate
    event(visitor, "sign_up", -20)  # before the window: not counted
    event(visitor, "add_to_cart", 0.01)  # after the exposure (stored first): a conversion
    with CaptureQueriesContext(connection) as queries:
        exposure = expose(experiment, visitor)
    assert goals_of(ExposureCovariate.objects.filter(exposure=exposure)) == {"Purchase"}
    assert goals_of(Conversion.objects.filter(visitor=visitor)) == {"Cart"}
    event_queries = [q for q in queries if Event._meta.db_table in q["sql"]]
    assert len(event_queries) == 1  # one query for the covariate and the early conversions


def test_the_window_is_the_experiment_s(experiment):
    experiment.cuped_window_days = 30
    experiment.save()
    visitor = Visitor.objects.create()
    event(visitor, "sign_up", -20)
    exposure = expose(experiment, visitor)
    assert goals_of(exposure.covariates.all()) == {"Sign-up"}

    experiment.cuped_window_days = 0
    experiment.save()
    other = Visitor.objects.create()
    event(other, "sign_up", -1)
    assert not expose(experiment, other).covariates.exists()


def test_a_second_exposure_snapshots_nothing_twice(experiment):
    visitor = Visitor.objects.create()
    event(visitor, "sign_up", -1)
    expose(experiment, visitor)
    assert expose(experiment, visitor) is None
    assert ExposureCovariate.objects.filter(visitor=visitor).count() == 1


def test_a_member_keeps_their_anonymous_self_s_covariates(experiment):
    anonymous, member = Visitor.objects.create(), Visitor.objects.create()
    event(anonymous, "sign_up", -1)
    expose(experiment, anonymous)
    visitor_experiments_merge(source=anonymous, target=member)
    assert ExposureCovariate.objects.get(experiment=experiment).visitor == member


def test_a_visit_before_the_first_exposure_becomes_the_covariate_through_the_site(run_jobs):
    experiment = Experiment.objects.get(key="home-hero")
    client = Client()
    with run_jobs():
        client.get("/members/")  # "Visited the Members area" before seeing the hero
    with run_jobs():
        client.get("/")
    exposure = Exposure.objects.get(experiment=experiment)
    assert goals_of(exposure.covariates.all()) == {"Visited the Members area"}


def test_the_reports_job_sums_the_covariate_per_variant_day_and_segment(experiment):
    fill(experiment, {"control": (100, 20), "b": (100, 30)}, pre={"control": (15, 9), "b": (12, 5)})
    fill(experiment, {"b": (50, 10)}, segment_id=7, pre={"b": (8, 4)})
    daily = DailyAggregate.objects.filter(experiment=experiment, goal__is_primary=True)
    totals = {
        name: (
            sum(d.pre_conversions for d in daily if d.variant.name == name),
            sum(d.pre_post_conversions for d in daily if d.variant.name == name),
        )
        for name in ("control", "b")
    }
    assert totals == {"control": (15, 9), "b": (20, 9)}
    segment = SegmentAggregate.objects.get(
        experiment=experiment, segment_id=7, variant__name="b", goal__is_primary=True
    )
    assert (segment.pre_conversions, segment.pre_post_conversions) == (8, 4)


def test_the_report_uses_cuped_when_the_covariate_exists():
    data = {"control": (3000, 300), "b": (3000, 360)}
    pre = {"control": (400, 180), "b": (400, 200)}
    with_history = running_experiment(key="with-history")
    fill(with_history, data, pre=pre)
    without = running_experiment(key="without-history")
    fill(without, data)

    adjusted = experiment_report(experiment=with_history)["goals"][0]["variants"][1]
    plain = experiment_report(experiment=without)["goals"][0]["variants"][1]
    assert adjusted["cuped"] and not plain["cuped"]
    expected = compare(
        Sample(3000, 300, pre_sum=400, post_pre_sum_products=180),
        Sample(3000, 360, pre_sum=400, post_pre_sum_products=200),
        sequential=True,
        cuped=True,
    )
    assert (adjusted["uplift"], adjusted["ci_low"], adjusted["ci_high"], adjusted["p_value"]) == (
        pytest.approx((expected.point, expected.ci_low, expected.ci_high, expected.p_value))
    )
    assert adjusted["ci_high"] - adjusted["ci_low"] < plain["ci_high"] - plain["ci_low"]


def test_no_cuped_when_the_window_is_off():
    experiment = running_experiment(cuped_window_days=0)
    fill(experiment, {"control": (500, 50), "b": (500, 60)}, pre={"control": (80, 30)})
    assert not experiment_report(experiment=experiment)["goals"][0]["variants"][1]["cuped"]
