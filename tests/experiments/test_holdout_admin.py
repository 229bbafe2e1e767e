"""Editors set up personalization holdouts in the admin (Personalization → Holdouts): a segment
or all, a share as a percentage, the site's goals; what would make a holdout ambiguous is a form
error, never a 500; start, pause and stop; the experiments list keeps to A/B tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from experiments.holdouts import holdout_for
from experiments.models import (
    AnalysisMethod,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    Variant,
)
from personalization.models import Segment
from tests.experiments.holdout_helpers import make_holdout

pytestmark = pytest.mark.django_db
INDEX = "/admin/personalization/holdouts/"
ADD = f"{INDEX}new/"
SIGN_UP = {"name": "Sign-up", "is_primary": "on", "kind": "event", "event_type": "sign_up"}


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.fixture
def dog_people():
    return Segment.objects.get(slug="dog-people")


def form(segment=None, share="5", goals=(SIGN_UP,), name=""):
    return nested_form_data(
        {
            "name": name,
            "holdout_segment": str(segment.pk) if segment is not None else "",
            "share": share,
            "goals": inline_formset([{"include_descendants": "on", **g} for g in goals]),
        }
    )


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code  # the form again, not a 500
    return response.content.decode()


def test_editor_adds_a_holdout_of_a_segment_with_a_share_and_a_goal(editor, dog_people):
    response = editor.post(ADD, form(dog_people, share="5"))
    assert response.status_code == 302, response.content.decode()[-3000:]
    holdout = Experiment.objects.get(kind=ExperimentKind.HOLDOUT)
    assert holdout.key == "holdout-dog-people"
    assert holdout.name == "Holdout: Dog people"
    assert holdout.holdout_segment == dog_people
    assert holdout.analysis == AnalysisMethod.SEQUENTIAL
    assert holdout.status == ExperimentStatus.DRAFT
    arms = list(Variant.objects.filter(experiment=holdout).order_by("sort_order"))
    assert [(v.name, round(v.weight, 6)) for v in arms] == [
        ("default", 0.05),
        ("personalized", 0.95),
    ]
    assert holdout.goals.get().is_primary  # a single goal is the primary goal


def test_editor_adds_the_global_holdout(editor):
    response = editor.post(ADD, form(None, share="10"))
    assert response.status_code == 302
    holdout = Experiment.objects.get(kind=ExperimentKind.HOLDOUT)
    assert (holdout.key, holdout.holdout_segment, holdout.name) == (
        "holdout-all",
        None,
        "Holdout: All segments",
    )


@pytest.mark.parametrize(
    ("share", "message"),
    [
        ("0", "above 0 and at most 50"),
        ("-5", "above 0 and at most 50"),
        ("50.5", "above 0 and at most 50"),
        ("80", "above 0 and at most 50"),
        ("", "This field is required"),
        ("lots", "Enter a number"),
    ],
)
def test_a_share_outside_0_to_50_percent_is_a_form_error(editor, dog_people, share, message):
    assert message in errors_of(editor.post(ADD, form(dog_people, share=share)))
    assert not Experiment.objects.filter(kind=ExperimentKind.HOLDOUT).exists()


def test_half_of_the_visitors_is_the_largest_share(editor, dog_people):
    assert editor.post(ADD, form(dog_people, share="50")).status_code == 302


def test_a_second_holdout_of_one_segment_is_a_form_error(editor, dog_people):
    make_holdout(dog_people, 0.05, start=False)
    page = errors_of(editor.post(ADD, form(dog_people)))
    assert "“Dog people” already has a holdout" in page
    assert Experiment.objects.filter(kind=ExperimentKind.HOLDOUT).count() == 1


def test_a_second_global_holdout_is_a_form_error(editor):
    make_holdout(None, 0.05)
    page = errors_of(editor.post(ADD, form(None)))
    assert "There is already a holdout of all segments" in page
    assert Experiment.objects.filter(kind=ExperimentKind.HOLDOUT).count() == 1


def test_goals_are_required_and_checked_like_an_experiments(editor, dog_people):
    assert "at least one of the site" in errors_of(editor.post(ADD, form(dog_people, goals=())))
    no_event = {**SIGN_UP, "event_type": ""}
    assert "choose the event type" in errors_of(
        editor.post(ADD, form(dog_people, goals=[no_event]))
    )
    two_primaries = [SIGN_UP, {**SIGN_UP, "name": "Purchase", "event_type": "purchase"}]
    page = errors_of(editor.post(ADD, form(dog_people, goals=two_primaries)))
    assert "exactly one goal as the primary goal" in page


def test_editing_changes_the_share_and_keeps_the_arms(editor, dog_people):
    holdout = make_holdout(dog_people, 0.05)
    arm_ids = set(holdout.variants.values_list("pk", flat=True))
    goal = holdout.goals.get()
    data = form(dog_people, share="20", name="Dogs held out")
    data |= {"goals-0-id": str(goal.pk), "goals-INITIAL_FORMS": "1"}
    response = editor.post(f"{INDEX}edit/{holdout.pk}/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    holdout.refresh_from_db()
    assert holdout.name == "Dogs held out" and holdout.key == "holdout-dog-people"
    assert set(holdout.variants.values_list("pk", flat=True)) == arm_ids
    assert holdout.variants.get(name="default").weight == pytest.approx(0.2)
    assert holdout_for(dog_people.pk).weights == pytest.approx([0.2, 0.8])  # the registry too


def test_a_started_holdout_keeps_its_segment(editor, dog_people):
    holdout = make_holdout(dog_people, 0.05)
    other = Segment.objects.get(slug="mobile-visitors")
    goal = holdout.goals.get()
    data = form(other, share="5") | {"goals-0-id": str(goal.pk), "goals-INITIAL_FORMS": "1"}
    editor.post(f"{INDEX}edit/{holdout.pk}/", data)
    holdout.refresh_from_db()
    assert holdout.holdout_segment == dog_people


def test_the_list_shows_holdouts_only_and_the_experiments_list_leaves_them_out(editor, dog_people):
    make_holdout(dog_people, 0.05)
    Experiment.objects.create(key="plain-ab", name="Plain AB test")
    holdouts = editor.get(INDEX).content.decode()
    assert "Holdout: Dog people" in holdouts and "Plain AB test" not in holdouts
    assert "5.0 %" in holdouts  # the share
    experiments = editor.get("/admin/experiments/").content.decode()
    assert "Plain AB test" in experiments and "Holdout: Dog people" not in experiments


def test_an_ab_experiment_is_not_editable_as_a_holdout(editor):
    experiment = Experiment.objects.create(key="plain-ab", name="Plain AB test")
    assert editor.get(f"{INDEX}edit/{experiment.pk}/").status_code == 404


def test_start_pause_and_stop(editor, dog_people):
    holdout = make_holdout(dog_people, 0.05, start=False)
    url = f"{INDEX}{holdout.pk}/"
    assert editor.post(f"{url}start/").status_code == 302
    assert holdout_for(dog_people.pk).id == holdout.pk
    editor.post(f"{url}pause/")
    assert holdout_for(dog_people.pk) is None
    editor.post(f"{url}stop/")
    holdout.refresh_from_db()
    assert holdout.status == ExperimentStatus.COMPLETED
    assert editor.get(f"{url}start/").status_code == 405


def test_a_holdout_without_goals_cannot_start(editor, dog_people):
    holdout = make_holdout(dog_people, 0.05, start=False)
    holdout.goals.all().delete()
    response = editor.post(f"{INDEX}{holdout.pk}/start/", follow=True)
    assert "Choose one primary goal." in response.content.decode()
    holdout.refresh_from_db()
    assert holdout.status == ExperimentStatus.DRAFT


def test_the_menu_lists_holdouts_and_the_report_under_personalization(editor):
    page = editor.get("/admin/").content.decode()
    assert INDEX in page and "/admin/personalization/holdouts-report/" in page


def test_a_holdout_has_no_winner_nor_ab_start_and_its_report_sends_the_editor_home(
    editor, dog_people
):
    holdout = make_holdout(dog_people, 0.1)
    report = editor.get(f"/admin/experiments/report/{holdout.pk}/").content.decode()
    assert "Declare winner" not in report
    assert f"/admin/personalization/holdouts/edit/{holdout.pk}/" in report
    default = holdout.variants.get(name="default")
    for response in (
        editor.post(f"/admin/experiments/report/{holdout.pk}/winner/", {"variant": default.pk}),
        editor.post(f"/admin/experiments/report/{holdout.pk}/pause/"),
    ):
        assert response.status_code == 302
        assert response["Location"] == f"/admin/personalization/holdouts/edit/{holdout.pk}/"
    holdout.refresh_from_db()
    assert holdout.status == ExperimentStatus.RUNNING and holdout.winner is None
    edit = editor.get(f"/admin/experiments/edit/{holdout.pk}/")
    assert edit["Location"] == f"/admin/personalization/holdouts/edit/{holdout.pk}/"
