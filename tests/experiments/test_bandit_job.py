"""The bandit's periodic job: it reweights a running bandit from the report's own numbers, keeps
the history, makes the site serve the new weights to new visitors while assigned visitors keep
their variant, and waits for each experiment's own interval."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from cms.models import ContentPage
from experiments.jobs import reweight_bandits
from experiments.models import (
    Allocation,
    BanditWeights,
    Conversion,
    Experiment,
    ExperimentStatus,
    Exposure,
)
from experiments.registry import running_experiments
from experiments.selectors import experiment_report
from experiments.usage import experiment_start
from personalization.models import Visitor
from tests.experiments.variant_helpers import ARM_MARKER, ab_block, make_experiment, publish_body
from tests.personalization.helpers import signed_visitor_cookie

pytestmark = pytest.mark.django_db
ARMS = ["control", "b", "c"]


def bandit(key: str = "tip-bandit", *, burn_in: int = 50, status=ExperimentStatus.RUNNING):
    """A 3-arm bandit experiment (equal weights), running unless told otherwise."""
    experiment = make_experiment(key, ARMS)
    experiment.allocation = Allocation.BANDIT
    experiment.bandit_burn_in = burn_in
    experiment.status = status
    experiment.started_at = timezone.now() if status != ExperimentStatus.DRAFT else None
    experiment.save()
    return experiment


def observed(experiment: Experiment, counts: dict[str, tuple[int, int]]) -> None:
    """Store, per variant, `exposures` exposed visitors of whom `conversions` reached the
    primary goal (as the recording jobs would)."""
    goal = experiment.goals.get(is_primary=True)
    for name, (exposures, conversions) in counts.items():
        variant = experiment.variants.get(name=name)
        visitors = Visitor.objects.bulk_create([Visitor() for _ in range(exposures)])
        Exposure.objects.bulk_create(
            [Exposure(experiment=experiment, variant=variant, visitor=v) for v in visitors]
        )
        Conversion.objects.bulk_create(
            [
                Conversion(experiment=experiment, goal=goal, variant=variant, visitor=v)
                for v in visitors[:conversions]
            ]
        )


def weights(experiment: Experiment) -> dict[str, float]:
    return dict(experiment.variants.values_list("name", "weight"))


def test_during_the_burn_in_the_weights_stay_equal_and_the_history_says_so():
    experiment = bandit(burn_in=50)
    observed(experiment, {"control": (60, 3), "b": (60, 30), "c": (49, 0)})
    assert reweight_bandits() == 1
    assert weights(experiment) == pytest.approx(dict.fromkeys(ARMS, 1 / 3), abs=1e-6)
    row = BanditWeights.objects.get(experiment=experiment)
    assert row.phase == "burn-in"
    assert row.exposures == {"control": 60, "b": 60, "c": 49}
    assert row.conversions == {"control": 3, "b": 30, "c": 0}
    experiment.refresh_from_db()
    assert experiment.bandit_updated_at is not None


def test_after_the_burn_in_the_winner_gets_the_traffic_and_the_others_keep_the_floor():
    experiment = bandit(burn_in=50)
    observed(experiment, {"control": (400, 20), "b": (400, 22), "c": (400, 80)})
    assert reweight_bandits() == 1
    new = weights(experiment)
    assert new["control"] == pytest.approx(0.05, abs=1e-6)
    assert new["b"] == pytest.approx(0.05, abs=1e-6)
    assert new["c"] == pytest.approx(0.90, abs=1e-6)
    row = BanditWeights.objects.get(experiment=experiment)
    assert row.phase == "thompson" and row.weights == new
    # the bandit read the report's own figures
    table = experiment_report(experiment=experiment)["goals"][0]
    assert row.exposures == {r["name"]: r["exposures"] for r in table["variants"]}
    assert row.conversions == {r["name"]: r["conversions"] for r in table["variants"]}


def test_the_registry_serves_the_new_weights(django_capture_on_commit_callbacks):
    experiment = bandit(burn_in=50)
    assert running_experiments().by_key["tip-bandit"].weights == pytest.approx([1 / 3] * 3)
    observed(experiment, {"control": (400, 20), "b": (400, 22), "c": (400, 80)})
    with django_capture_on_commit_callbacks(execute=True):
        reweight_bandits()
    spec = running_experiments().by_key["tip-bandit"]
    assert spec.weights == pytest.approx([0.05, 0.05, 0.90], abs=1e-6)


def test_the_interval_is_respected():
    experiment = bandit(burn_in=50)
    assert reweight_bandits() == 1
    assert reweight_bandits() == 0  # just done
    Experiment.objects.filter(pk=experiment.pk).update(
        bandit_updated_at=timezone.now() - datetime.timedelta(minutes=59)
    )
    assert reweight_bandits() == 0  # hourly by default
    Experiment.objects.filter(pk=experiment.pk).update(
        bandit_updated_at=timezone.now() - datetime.timedelta(minutes=61)
    )
    assert reweight_bandits() == 1
    Experiment.objects.filter(pk=experiment.pk).update(
        bandit_interval_minutes=15,
        bandit_updated_at=timezone.now() - datetime.timedelta(minutes=16),
    )
    assert reweight_bandits() == 1
    assert BanditWeights.objects.filter(experiment=experiment).count() == 3


def test_only_running_bandits_are_reweighted():
    paused = bandit("paused-bandit", status=ExperimentStatus.PAUSED)
    draft = bandit("draft-bandit", status=ExperimentStatus.DRAFT)
    fixed = make_experiment("fixed-test", ARMS, weights=[0.5, 0.25, 0.25])
    Experiment.objects.filter(pk=fixed.pk).update(status=ExperimentStatus.RUNNING)
    assert reweight_bandits() == 0
    assert not BanditWeights.objects.exists()
    assert weights(fixed) == {"control": 0.5, "b": 0.25, "c": 0.25}
    assert paused.bandit_updated_at is None and draft.bandit_updated_at is None


# THE SITE: ASSIGNED VISITORS KEEP THEIR VARIANT, NEW ONES FOLLOW THE NEW WEIGHTS
# ------------------------------------------------------------------------------


def served(client, page, visitor_uuid: uuid.UUID) -> str:
    """The variant whose content `visitor_uuid` is shown on `page`."""
    client.cookies.clear()
    client.cookies[django_settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(visitor_uuid)
    response = client.get(page.url)
    assert response.status_code == 200
    found = dict(ARM_MARKER.findall(response.content.decode()))
    return found["tip-bandit"]


def test_assigned_visitors_keep_their_variant_and_new_visitors_follow_the_new_weights(
    client, run_jobs, django_capture_on_commit_callbacks
):
    page = ContentPage.objects.get(slug="choosing-dog-food")
    experiment = bandit(burn_in=50, status=ExperimentStatus.DRAFT)
    publish_body(page, [ab_block("tip-bandit", ARMS)])
    experiment_start(experiment=experiment)
    early = [uuid.UUID(int=i + 1, version=4) for i in range(60)]
    with run_jobs():
        first = {visitor: served(client, page, visitor) for visitor in early}
    assert set(first.values()) == set(ARMS)  # equal weights: every arm gets visitors
    observed(experiment, {"control": (400, 20), "b": (400, 22), "c": (400, 80)})
    with django_capture_on_commit_callbacks(execute=True):
        assert reweight_bandits() == 1
    assert weights(experiment)["c"] == pytest.approx(0.9, abs=1e-6)
    with run_jobs():
        again = {visitor: served(client, page, visitor) for visitor in early}
        late = [served(client, page, uuid.UUID(int=10_000 + i, version=4)) for i in range(200)]
    assert again == first  # the stored assignment wins over the new weights
    assert late.count("c") / len(late) > 0.8
    exposed = dict(
        Exposure.objects.filter(experiment=experiment, visitor__uuid__in=early).values_list(
            "visitor__uuid", "variant__name"
        )
    )
    assert exposed == first  # and each was counted once, under the variant they see
