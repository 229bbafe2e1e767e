"""Layers in the admin: the Layers list under Experiments, and on the experiment form a layer
select showing each layer's free room, the slice as percentages of the layer (the first free
slice when left empty), refused when it overlaps a slice of another experiment of the layer
(named), when it starts after it ends, and fixed once the experiment has started. Bad input is a
form error, never a 500."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from wagtail.test.utils.form_data import querydict_from_html

from experiments.models import Experiment, ExperimentStatus, Layer
from tests.experiments import test_form
from tests.experiments.test_form import ADD, SIGN_UP, errors, refused, saved
from tests.experiments.variant_helpers import make_experiment

pytestmark = pytest.mark.django_db
GOAL = {**SIGN_UP, "harm_direction": "increase"}  # the goal form asks which way is harm


def form(**extra) -> dict:
    """The experiment form's data (`test_form.form`) with a complete goal."""
    return test_form.form(**{"goals": (GOAL,), **extra})


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.fixture
def layer():
    return Layer.objects.create(key="home", name="Home page")


def in_layer(key: str, layer: Layer, start: float, end: float, status=ExperimentStatus.DRAFT):
    experiment = make_experiment(key, ["control", "b"])
    Experiment.objects.filter(pk=experiment.pk).update(
        layer=layer, namespace_start=start, namespace_end=end, status=status
    )
    return Experiment.objects.get(pk=experiment.pk)


def edit_data(client, experiment: Experiment, **changes) -> dict:
    """The experiment's edit form as loaded, with `changes`."""
    html = client.get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    data = querydict_from_html(html, form_id=_form_id(html)).dict()
    return data | {k: str(v) for k, v in changes.items()}


def _form_id(html: str) -> str:
    return re.search(r'<form[^>]*id="([^"]+)"[^>]*method="POST"', html, re.I).group(1)


# THE SLICE
# ------------------------------------------------------------------------------


def test_the_layer_select_shows_each_layer_s_free_room(editor, layer):
    in_layer("hero-test", layer, 0.0, 0.5, status=ExperimentStatus.RUNNING)
    html = editor.get(ADD).content.decode()
    assert "Home page (free: 50–100 %)" in html
    assert "Layer and allocation" in html


def test_an_empty_slice_takes_the_first_free_slice_of_the_layer(editor, layer):
    in_layer("hero-test", layer, 0.0, 0.5, status=ExperimentStatus.RUNNING)
    experiment = saved(editor.post(ADD, form(layer=layer.pk)))
    assert (experiment.layer, experiment.namespace_start, experiment.namespace_end) == (
        layer,
        0.5,
        1.0,
    )


def test_a_share_of_the_layer_takes_that_much_of_the_first_gap_that_fits(editor, layer):
    in_layer("left", layer, 0.0, 0.1)
    in_layer("middle", layer, 0.2, 0.5)
    experiment = saved(editor.post(ADD, form(layer=layer.pk, layer_share="25")))
    assert (experiment.namespace_start, experiment.namespace_end) == (0.5, 0.75)


def test_a_slice_typed_as_percentages_is_stored_as_shares(editor, layer):
    experiment = saved(
        editor.post(ADD, form(layer=layer.pk, namespace_start="12.5", namespace_end="40"))
    )
    assert (experiment.namespace_start, experiment.namespace_end) == (0.125, 0.4)


def test_an_overlapping_slice_is_refused_naming_the_other_experiment(editor, layer):
    in_layer("hero-test", layer, 0.0, 0.5, status=ExperimentStatus.RUNNING)
    response = editor.post(ADD, form(layer=layer.pk, namespace_start="40", namespace_end="60"))
    refused(response, "overlaps “Hero Test” (0–50 % of the layer “Home page”)")


def test_a_completed_experiment_leaves_its_slice_free(editor, layer):
    in_layer("old-test", layer, 0.0, 1.0, status=ExperimentStatus.COMPLETED)
    experiment = saved(editor.post(ADD, form(layer=layer.pk)))
    assert (experiment.namespace_start, experiment.namespace_end) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"namespace_start": "60", "namespace_end": "40"}, "must start before it ends"),
        ({"namespace_start": "50", "namespace_end": "50"}, "must start before it ends"),
        ({"namespace_start": "-10", "namespace_end": "40"}, "must start before it ends"),
        ({"namespace_start": "10", "namespace_end": "120"}, "must start before it ends"),
        ({"namespace_start": "10"}, "Give both the start and the end"),
        ({"namespace_start": "abc", "namespace_end": "40"}, "Enter a number"),
        ({"layer_share": "0"}, "A share above 0 and at most 100 %"),
        ({"layer_share": "150"}, "A share above 0 and at most 100 %"),
    ],
)
def test_impossible_slices_are_form_errors(editor, layer, fields, message):
    refused(editor.post(ADD, form(layer=layer.pk, **fields)), message)


def test_a_slice_without_a_layer_is_refused(editor):
    refused(
        editor.post(ADD, form(namespace_start="0", namespace_end="50")),
        "Choose the layer this slice belongs to",
    )


def test_a_full_layer_is_refused_with_what_to_do(editor, layer):
    in_layer("everything", layer, 0.0, 1.0, status=ExperimentStatus.RUNNING)
    refused(editor.post(ADD, form(layer=layer.pk)), "The layer “Home page” is full")
    refused(
        editor.post(ADD, form(layer=layer.pk, layer_share="10")),
        "The layer “Home page” is full",
    )


def test_no_free_slice_wide_enough_names_the_free_room(editor, layer):
    in_layer("left", layer, 0.0, 0.7)
    refused(
        editor.post(ADD, form(layer=layer.pk, layer_share="40")),
        "No free slice of 40 % in “Home page”; free: 70–100 %.",
    )


def test_without_a_layer_an_experiment_takes_everyone(editor):
    experiment = saved(editor.post(ADD, form()))
    assert (experiment.layer, experiment.namespace_start, experiment.namespace_end) == (
        None,
        0.0,
        1.0,
    )


def test_the_layer_and_slice_are_fixed_once_started(editor, layer):
    other = Layer.objects.create(key="other", name="Other")
    experiment = in_layer("hero-test", layer, 0.25, 0.5, status=ExperimentStatus.RUNNING)
    html = editor.get(f"/admin/experiments/edit/{experiment.pk}/").content.decode()
    assert re.search(r'name="namespace_start"[^>]*value="25"', html)
    assert re.search(r'name="namespace_end"[^>]*value="50"', html)
    assert "Fixed once the experiment has started: it decides who takes part." in html
    data = edit_data(editor, experiment, layer=other.pk, namespace_start="0", namespace_end="100")
    response = editor.post(f"/admin/experiments/edit/{experiment.pk}/", data)
    assert response.status_code == 302, errors(response)
    experiment.refresh_from_db()
    assert (experiment.layer, experiment.namespace_start, experiment.namespace_end) == (
        layer,
        0.25,
        0.5,
    )


def test_a_draft_may_move_to_a_free_slice(editor, layer):
    experiment = in_layer("hero-test", layer, 0.25, 0.5)
    in_layer("neighbour", layer, 0.5, 0.75)
    data = edit_data(editor, experiment, namespace_start="0", namespace_end="25")
    response = editor.post(f"/admin/experiments/edit/{experiment.pk}/", data)
    assert response.status_code == 302, errors(response)
    experiment.refresh_from_db()
    assert (experiment.namespace_start, experiment.namespace_end) == (0.0, 0.25)
    # its own old slice never counts as taken; the neighbour's does
    data = edit_data(editor, experiment, namespace_start="0", namespace_end="60")
    response = editor.post(f"/admin/experiments/edit/{experiment.pk}/", data)
    assert response.status_code == 200 and "overlaps “Neighbour”" in response.content.decode()


# THE LAYERS LIST AND THE REPORT
# ------------------------------------------------------------------------------


def test_layers_are_listed_under_experiments_with_their_slices(editor, layer):
    in_layer("hero-test", layer, 0.0, 0.5, status=ExperimentStatus.RUNNING)
    in_layer("old-test", layer, 0.5, 1.0, status=ExperimentStatus.COMPLETED)
    listing = editor.get("/admin/experiments/layers/")
    assert listing.status_code == 200 and "Home page" in listing.content.decode()
    html = editor.get(f"/admin/experiments/layers/edit/{layer.pk}/").content.decode()
    assert "Hero Test" in html and "0–50 %" in html
    assert "its slice is free again" in html  # the completed one
    assert "Free: 50–100 %" in html
    menu = editor.get("/admin/").content.decode()
    assert "/admin/experiments/layers/" in menu and "/admin/experiments/" in menu


def test_a_layer_is_added_from_the_admin(editor):
    response = editor.post(
        "/admin/experiments/layers/add/",
        {"key": "checkout", "name": "Checkout", "description": "Cart and payment pages."},
    )
    assert response.status_code == 302
    assert Layer.objects.filter(key="checkout", name="Checkout").exists()


def test_a_layer_in_use_is_not_deleted_and_says_why(editor, layer):
    in_layer("hero-test", layer, 0.0, 0.5)
    response = editor.post(f"/admin/experiments/layers/delete/{layer.pk}/")
    assert response.status_code in (200, 302)
    assert Layer.objects.filter(pk=layer.pk).exists()


def test_the_report_shows_the_layer_and_slice(editor, layer):
    experiment = in_layer("hero-test", layer, 0.25, 0.5, status=ExperimentStatus.RUNNING)
    html = editor.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    assert "Home page" in html and "25–50 %" in html


def test_the_results_api_names_the_layer_slice(layer):
    experiment = in_layer("hero-test", layer, 0.25, 0.5, status=ExperimentStatus.RUNNING)
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="admin"))
    body = api.get(f"/api/v1/experiments/{experiment.key}/results/").json()
    assert body["experiment"]["layer"] == {
        "key": "home",
        "name": "Home page",
        "start": 0.25,
        "end": 0.5,
    }
    assert body["experiment"]["allocation"] == "fixed" and body["bandit"] is None


def test_starting_an_experiment_whose_slice_overlaps_a_running_one_is_refused():
    """Made in code (no form): starting still refuses an overlap within the layer."""
    from experiments.models import Experiment, ExperimentStatus, Layer, TransitionError

    layer = Layer.objects.create(key="start-check", name="Start check")
    running = Experiment.objects.create(
        key="first-in-layer", name="First", layer=layer, namespace_start=0, namespace_end=0.6
    )
    Experiment.objects.filter(pk=running.pk).update(status=ExperimentStatus.RUNNING)
    second = Experiment.objects.create(
        key="second-in-layer", name="Second", layer=layer, namespace_start=0.5, namespace_end=1
    )
    assert any("overlaps “First”" in p for p in second.readiness_problems())
    with pytest.raises(TransitionError, match="overlaps"):
        second.start()
    second.namespace_start = 0.6
    assert not any("overlaps" in p for p in second.readiness_problems())
