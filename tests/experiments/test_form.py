"""The experiment form: weights as percentages adding up to 100, the analysis settings (sequential
by default; fixed-horizon with a plan from the power calculator, never below the minimum; alpha
in (0, 0.5); Holm or BH), a single goal primary automatically, the key following the name until
the start, target segments as checkboxes and revisions with human dates. Bad input is a form
error, never a 500."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from experiments.models import AnalysisMethod, Correction, Experiment, ExperimentStatus
from experiments.stats import minimum_sample_size_per_arm, sample_size_per_arm
from experiments.wagtail_hooks import ExperimentViewSet

pytestmark = pytest.mark.django_db
ADD = "/admin/experiments/add/"
SIGN_UP = {"name": "Sign-up", "is_primary": "on", "kind": "event", "event_type": "sign_up"}


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def form(variants=(("control", "50"), ("b", "50")), goals=(SIGN_UP,), **extra):
    return nested_form_data(
        {
            "name": "Plan test",
            "key": "plan-test",
            "hypothesis": "",
            "coverage": 1,
            "hash_seed": "",
            "variants": inline_formset([{"name": n, "weight": w} for n, w in variants]),
            "goals": inline_formset([{"include_descendants": "on", **g} for g in goals]),
            **extra,
        }
    )


def saved(response) -> Experiment:
    assert response.status_code == 302, errors(response)
    return Experiment.objects.get(key="plan-test")


def errors(response) -> str:
    html = response.content.decode()
    return " ".join(re.findall(r'class="error-message"[^>]*>\s*(?:<p>)?([^<]+)', html)) or html


def refused(response, message: str) -> None:
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Experiment.objects.filter(key="plan-test").exists()


# WEIGHTS
# ------------------------------------------------------------------------------


def test_weights_are_percentages_stored_as_shares(editor):
    experiment = saved(editor.post(ADD, form(variants=(("control", "20"), ("b", "80")))))
    assert sorted(experiment.variants.values_list("name", "weight")) == [
        ("b", 0.8),
        ("control", 0.2),
    ]
    html = editor.get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    assert re.search(r'name="variants-0-weight"[^>]*value="20"', html)
    assert "Weight (%)" in html


@pytest.mark.parametrize(
    "weights", [("33.3", "33.3", "33.3"), ("60", "30", "30"), ("abc", "50", "50")]
)
def test_weights_not_adding_up_to_100_are_refused(editor, weights):
    variants = tuple(zip(("control", "b", "c"), weights, strict=True))
    response = editor.post(ADD, form(variants=variants))
    assert response.status_code == 200
    assert not Experiment.objects.filter(key="plan-test").exists()
    assert "must add up to 100 %" in response.content.decode() or "Enter a number" in (
        response.content.decode()
    )


def test_thirds_that_add_up_to_100_are_accepted(editor):
    variants = (("control", "33.34"), ("b", "33.33"), ("c", "33.33"))
    experiment = saved(editor.post(ADD, form(variants=variants)))
    assert sum(experiment.variants.values_list("weight", flat=True)) == pytest.approx(1)


# ANALYSIS
# ------------------------------------------------------------------------------


def test_a_new_experiment_is_sequential_with_holm_at_5_percent_and_cuped(editor):
    experiment = saved(editor.post(ADD, form()))
    assert experiment.analysis == AnalysisMethod.SEQUENTIAL
    assert experiment.correction == Correction.HOLM
    assert experiment.alpha == 0.05 and experiment.cuped_window_days == 14


def test_settings_are_saved(editor):
    experiment = saved(
        editor.post(ADD, form(alpha="0.01", correction="bh", cuped_window_days="28"))
    )
    assert (experiment.alpha, experiment.correction, experiment.cuped_window_days) == (
        0.01,
        "bh",
        28,
    )


@pytest.mark.parametrize("alpha", ["0", "0.5", "0.7", "-0.1", "abc"])
def test_alpha_outside_0_to_half_is_refused(editor, alpha):
    response = editor.post(ADD, form(alpha=alpha))
    assert response.status_code == 200
    assert not Experiment.objects.filter(key="plan-test").exists()
    html = response.content.decode()
    assert "above 0 and below 0.5" in html or "Enter a number" in html


def test_the_power_calculator_plans_a_fixed_horizon_test(editor):
    data = form(analysis="fixed", baseline_rate="4", minimum_detectable_effect="10", power="80")
    experiment = saved(editor.post(ADD, data))
    assert experiment.analysis == AnalysisMethod.FIXED
    assert experiment.baseline_rate == pytest.approx(0.04)
    assert experiment.minimum_detectable_effect == pytest.approx(0.1)
    assert experiment.power == pytest.approx(0.8)
    assert experiment.planned_sample_size == sample_size_per_arm(0.04, 0.1) == 39472


def test_the_edit_form_shows_the_calculator_s_figure_for_the_stored_inputs(editor):
    data = form(analysis="fixed", baseline_rate="4", minimum_detectable_effect="20")
    experiment = saved(editor.post(ADD, data))
    form_class = ExperimentViewSet().get_edit_handler().get_form_class()
    help_text = str(form_class(instance=experiment).fields["planned_sample_size"].help_text)
    assert "The calculator's figure for the inputs above: 10,314 visitors per variant" in help_text


def test_a_planned_size_below_the_minimum_is_refused(editor):
    minimum = minimum_sample_size_per_arm(0.04)
    assert minimum == 250
    data = form(analysis="fixed", baseline_rate="4", planned_sample_size=str(minimum - 1))
    refused(editor.post(ADD, data), "At least 250 visitors per variant")
    refused(editor.post(ADD, form(analysis="fixed", planned_sample_size="29")), "At least 30")
    experiment = saved(editor.post(ADD, form(analysis="fixed", planned_sample_size="30")))
    assert experiment.planned_sample_size == 30


def test_a_fixed_horizon_test_needs_a_plan(editor):
    refused(editor.post(ADD, form(analysis="fixed")), "A fixed-horizon analysis needs a plan")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"baseline_rate": "90", "minimum_detectable_effect": "50"}, "must stay below 100 %"),
        ({"baseline_rate": "0", "minimum_detectable_effect": "10"}, "between 0 and 100 %"),
        ({"baseline_rate": "4", "minimum_detectable_effect": "0"}, "Not zero"),
        ({"power": "3"}, "Power must be above"),
        ({"cuped_window_days": "-1"}, "greater than or equal to 0"),
    ],
)
def test_impossible_plans_are_form_errors(editor, fields, message):
    refused(editor.post(ADD, form(analysis="fixed", **fields)), message)


def test_analysis_settings_are_fixed_once_the_experiment_has_started(editor):
    experiment = saved(editor.post(ADD, form()))
    experiment.start()
    data = form(analysis="fixed", planned_sample_size="5000", alpha="0.2")
    editor.post(f"/admin/experiments/edit/{experiment.pk}/", data)
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    assert (experiment.analysis, experiment.planned_sample_size, experiment.alpha) == (
        AnalysisMethod.SEQUENTIAL,
        None,
        0.05,
    )


# THE REST OF THE FORM
# ------------------------------------------------------------------------------


def test_a_single_goal_is_the_primary_goal(editor):
    goal = {"name": "Bought", "kind": "event", "event_type": "purchase"}
    experiment = saved(editor.post(ADD, form(goals=(goal,))))
    assert list(experiment.goals.values_list("name", "is_primary")) == [("Bought", True)]


def test_the_key_follows_the_name_until_the_experiment_starts(editor):
    html = editor.get(ADD).content.decode()
    name = re.search(r'<input[^>]*name="name"[^>]*>', html).group(0)
    key = re.search(r'<input[^>]*name="key"[^>]*>', html).group(0)
    assert 'data-controller="w-sync"' in name and 'data-w-sync-target-value="#id_key"' in name
    assert 'data-controller="w-slug"' in key
    running = Experiment.objects.get(key="home-hero")
    html = editor.get(f"/admin/experiments/edit/{running.pk}/").content.decode()
    assert 'data-w-sync-target-value="#id_key"' not in html


def test_target_segments_are_checkboxes(editor):
    html = editor.get(ADD).content.decode()
    assert re.search(r'<input type="checkbox" name="target_segments"', html)


def test_page_level_variants_choose_among_that_page_s_revisions_by_date(editor):
    experiment = Experiment.objects.get(key="home-hero")
    html = editor.get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    select = re.search(r'<select name="variants-1-revision".*?</select>', html, re.S).group(0)
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", select)
    assert options and all(experiment.page.title in o for o in options)
    assert all(re.search(r"saved \d{1,2} \w{3} \d{4}, \d{2}:\d{2} by \w+", o) for o in options)
