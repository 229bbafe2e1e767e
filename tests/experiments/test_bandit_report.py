"""A bandit's report: a plain warning that its pooled figures are biased, the weight history (a
chart and a table), each variant's weight and chance to be best; the same history in the
results API; and a sample-ratio check against the weights in force over time, not today's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from experiments.aggregates import aggregates_snapshot
from experiments.bandits import bandit_reweight
from experiments.models import BanditWeights, Experiment
from experiments.selectors import experiment_report
from experiments.stats import srm_check
from tests.experiments.test_bandit_job import bandit, observed

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def reweighted():
    """A bandit reweighted twice: at 300 visitors a variant (burn-in: equal weights), at 400 a
    variant (Thompson: c has clearly won, 5/5/90 %); then 1,000 more visitors split 50/50/900,
    as those weights send them."""
    experiment = bandit(burn_in=400)
    observed(experiment, {"control": (300, 15), "b": (300, 16), "c": (300, 60)})
    recount_and_reweight(experiment)
    observed(experiment, {"control": (100, 5), "b": (100, 6), "c": (100, 20)})
    recount_and_reweight(experiment)
    observed(experiment, {"control": (50, 2), "b": (50, 3), "c": (900, 180)})
    aggregates_snapshot(experiment=experiment)
    return experiment


def recount_and_reweight(experiment) -> None:
    """What the periodic job does, without waiting for the interval."""
    aggregates_snapshot(experiment=experiment)
    bandit_reweight(experiment=experiment, force=True)


def test_the_history_records_each_reweighting(reweighted):
    rows = list(BanditWeights.objects.filter(experiment=reweighted))
    assert [r.phase for r in rows] == ["burn-in", "thompson"]
    assert rows[1].weights == pytest.approx({"control": 0.05, "b": 0.05, "c": 0.9}, abs=1e-6)
    assert rows[1].exposures == {"control": 400, "b": 400, "c": 400}


def test_the_sample_ratio_check_uses_the_weights_in_force_over_time(reweighted):
    report = experiment_report(experiment=reweighted)
    exposures = [row["exposures"] for row in report["goals"][0]["variants"]]
    assert exposures == [450, 450, 1300]
    # against today's weights this split would be a glaring mismatch...
    assert srm_check(exposures, [0.05, 0.05, 0.9]).mismatch
    # ...but it is exactly what the bandit's weights over time sent
    assert not report["goals"][0]["srm"]["mismatch"]
    assert report["verdict"]["state"] != "srm"


def test_the_report_warns_and_shows_the_weight_history(client, admin, reweighted):
    client.force_login(admin)
    html = client.get(f"/admin/experiments/report/{reweighted.pk}/").content.decode()
    assert "read the pooled figures with care" in html
    assert "Simpson" in html and "run a fixed-weight test" in html
    assert "Weight history (bandit)" in html
    assert 'aria-label="Weight of each variant over time"' in html
    assert "Thompson sampling" in html and "burn-in" in html
    assert "Chance to be best (primary goal)" in html
    assert "90.0 %" in html and "5.0 %" in html  # the weights now
    assert "Bandit: shift traffic to the better variants" in html  # the allocation fact


def test_a_fixed_weight_report_has_no_bandit_section(client, admin):
    client.force_login(admin)
    experiment = Experiment.objects.get(key="home-hero")
    html = client.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    assert "Weight history" not in html and "read the pooled figures with care" not in html


def test_the_results_api_gives_the_bandit_history(admin, reweighted):
    api = APIClient()
    api.force_authenticate(admin)
    body = api.get(f"/api/v1/experiments/{reweighted.key}/results/").json()
    assert body["experiment"]["allocation"] == "bandit"
    bandit_part = body["bandit"]
    assert [row["phase"] for row in bandit_part["history"]] == ["burn-in", "thompson"]
    assert bandit_part["history"][1]["weights"]["c"] == pytest.approx(0.9, abs=1e-6)
    assert bandit_part["weights"]["c"] == pytest.approx(0.9, abs=1e-6)
    assert bandit_part["floor"] == 0.05 and bandit_part["burn_in"] == 400
    assert bandit_part["chance_to_be_best"]["c"] > 0.99
