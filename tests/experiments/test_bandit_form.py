"""Bandit settings on the experiment form: the floor as a percentage, refused when floor ×
variants would exceed 100 % or when it is outside [0, 50 %); a bandit's weights are its own (equal
until it starts, the bandit's afterwards), and the allocation is fixed once started. Bad input is
a form error, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from experiments.models import Allocation, Experiment, ExperimentStatus
from tests.experiments.test_form import ADD, errors, refused, saved
from tests.experiments.test_layers_form import edit_data, form

pytestmark = pytest.mark.django_db
THREE = (("control", "20"), ("b", "30"), ("c", "50"))


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def bandit_form(variants=THREE, **extra):
    return form(variants=variants, **{"allocation": "bandit", **extra})


def test_a_bandit_is_saved_with_its_settings_and_equal_starting_weights(editor):
    experiment = saved(
        editor.post(
            ADD,
            bandit_form(bandit_floor="10", bandit_burn_in="300", bandit_interval_minutes="30"),
        )
    )
    assert experiment.allocation == Allocation.BANDIT
    assert (experiment.bandit_floor, experiment.bandit_burn_in) == (0.1, 300)
    assert experiment.bandit_interval_minutes == 30
    weights = sorted(experiment.variants.values_list("weight", flat=True))
    assert weights == pytest.approx([1 / 3] * 3, abs=1e-6)  # not the 20/30/50 typed
    assert sum(weights) == pytest.approx(1, abs=1e-9)


def test_left_out_bandit_settings_take_the_defaults(editor):
    experiment = saved(editor.post(ADD, bandit_form()))
    assert (experiment.bandit_floor, experiment.bandit_burn_in) == (0.05, 200)
    assert experiment.bandit_interval_minutes == 60


def test_a_bandit_s_typed_weights_need_not_add_up(editor):
    experiment = saved(editor.post(ADD, bandit_form(variants=(("control", "90"), ("b", "90")))))
    assert sorted(experiment.variants.values_list("weight", flat=True)) == [0.5, 0.5]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"bandit_floor": "40"}, "With 3 variants, a floor of 40 % would need 120 %"),
        ({"bandit_floor": "34"}, "at most 33.3333 %"),
        ({"bandit_floor": "50"}, "The floor must be at least 0 and below 50 %"),
        ({"bandit_floor": "-1"}, "The floor must be at least 0 and below 50 %"),
        ({"bandit_floor": "many"}, "Enter a number"),
        ({"bandit_burn_in": "-5"}, "greater than or equal to 0"),
        ({"bandit_interval_minutes": "5"}, "greater than or equal to 10"),
    ],
)
def test_impossible_bandit_settings_are_form_errors(editor, fields, message):
    refused(editor.post(ADD, bandit_form(**fields)), message)


def test_a_floor_of_exactly_a_share_each_is_allowed(editor):
    experiment = saved(
        editor.post(ADD, bandit_form(variants=(("control", "50"), ("b", "50")), bandit_floor="25"))
    )
    assert experiment.bandit_floor == 0.25


def test_a_floor_out_of_range_is_refused_for_fixed_weights_too(editor):
    refused(editor.post(ADD, form(bandit_floor="75")), "below 50 %")


def test_fixed_weights_keep_the_typed_weights(editor):
    experiment = saved(editor.post(ADD, form(variants=THREE, allocation="fixed")))
    assert sorted(experiment.variants.values_list("weight", flat=True)) == [0.2, 0.3, 0.5]


def test_a_running_bandit_keeps_its_own_weights_and_its_allocation(editor):
    experiment = saved(editor.post(ADD, bandit_form()))
    Experiment.objects.filter(pk=experiment.pk).update(status=ExperimentStatus.RUNNING)
    for name, weight in (("control", 0.05), ("b", 0.05), ("c", 0.9)):
        experiment.variants.filter(name=name).update(weight=weight)
    html = editor.get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    assert "Set by the bandit" in html
    data = edit_data(editor, experiment, allocation="fixed", bandit_floor="10")
    data |= {"variants-0-weight": "50", "variants-1-weight": "25", "variants-2-weight": "25"}
    response = editor.post(f"/admin/experiments/edit/{experiment.pk}/", data)
    assert response.status_code == 302, errors(response)
    experiment.refresh_from_db()
    assert experiment.allocation == Allocation.BANDIT
    assert experiment.bandit_floor == 0.1  # the floor may change while it runs
    assert dict(experiment.variants.values_list("name", "weight")) == {
        "control": 0.05,
        "b": 0.05,
        "c": 0.9,
    }
