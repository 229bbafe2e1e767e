"""Editors set up experiments in the admin; what would make results meaningless is refused
with a message; the report's actions change the state; the winner's content is adopted."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from cms.models import ContentPage, HomePage, SectionPage
from experiments.models import Experiment, ExperimentStatus, Goal, GoalKind, Variant

pytestmark = pytest.mark.django_db
ADD = "/admin/experiments/add/"


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def form(key="cta-test", variants=(("control", 50), ("b", 50)), goals=None, **extra):
    goals = (
        goals
        if goals is not None
        else [{"name": "Sign-up", "is_primary": "on", "kind": "event", "event_type": "sign_up"}]
    )
    return nested_form_data(
        {
            "name": "CTA test",
            "key": key,
            "hypothesis": "",
            "coverage": 1,
            "hash_seed": "",
            "variants": inline_formset([{"name": n, "weight": w} for n, w in variants]),
            "goals": inline_formset([{"include_descendants": "on", **g} for g in goals]),
            **extra,
        }
    )


def test_editor_creates_an_experiment_with_variants_and_goals(editor):
    response = editor.post(ADD, form(variants=(("control", 20), ("b", 30), ("c", 50))))
    assert response.status_code == 302, response.content.decode()[-3000:]
    experiment = Experiment.objects.get(key="cta-test")
    assert [v.name for v in experiment.variants.order_by("sort_order")] == ["control", "b", "c"]
    assert experiment.status == ExperimentStatus.DRAFT


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ((("control", 50), ("b", 30)), "must add up to 100 %"),
        ((("control", 100),), "at least two variants"),
        ((), "at least two variants"),
        ((("control", 50), ("control", 50)), "duplicate"),
        ((("control", 150), ("b", -50)), "cannot be negative"),
    ],
)
def test_bad_variants_are_refused(editor, variants, message):
    response = editor.post(ADD, form(variants=variants))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Experiment.objects.filter(key="cta-test").exists()


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ([], "exactly one goal as the primary"),
        (
            [
                {"name": "A", "kind": "event", "event_type": "sign_up"},
                {"name": "B", "kind": "event", "event_type": "purchase"},
            ],
            "exactly one goal",
        ),
        ([{"name": "A", "is_primary": "on", "kind": "page_visit"}], "the page to visit"),
        ([{"name": "A", "is_primary": "on", "kind": "custom"}], "custom event name"),
        (
            [
                {
                    "name": "A",
                    "is_primary": "on",
                    "kind": "event",
                    "event_type": "purchase",
                    "min_amount": "-5",
                }
            ],
            "cannot be negative",
        ),
    ],
)
def test_bad_goals_are_refused(editor, goals, message):
    response = editor.post(ADD, form(goals=goals))
    assert message in response.content.decode()
    assert not Experiment.objects.filter(key="cta-test").exists()


def test_coverage_outside_0_to_1_is_refused(editor):
    assert "Coverage is a share" in editor.post(ADD, form(coverage=1.5)).content.decode()


def test_the_key_of_a_running_experiment_cannot_change(editor):
    experiment = Experiment.objects.get(key="home-hero")
    data = form(
        key="renamed",
        goals=[{"name": "Sign-up", "is_primary": "on", "kind": "event", "event_type": "sign_up"}],
    )
    response = editor.post(f"/admin/experiments/edit/{experiment.pk}/", data)
    assert "cannot change" in response.content.decode()
    assert Experiment.objects.filter(key="home-hero").exists()


def test_a_goal_whose_page_was_deleted_is_reported_and_blocks_start():
    page = ContentPage.objects.get(slug="litter-that-works")
    experiment = Experiment.objects.create(key="litter", name="Litter")
    Variant.objects.create(experiment=experiment, name="control", weight=0.5, sort_order=0)
    Variant.objects.create(experiment=experiment, name="b", weight=0.5, sort_order=1)
    Goal.objects.create(
        experiment=experiment,
        name="Read litter",
        is_primary=True,
        kind=GoalKind.PAGE_VISIT,
        page=page,
    )
    page.delete()
    assert "its page was deleted" in " ".join(experiment.readiness_problems())
    with pytest.raises(ValueError, match="page was deleted"):
        experiment.start()


def test_report_actions_start_pause_and_complete(editor):
    # The demo's home-hero experiment: a draft that the live home page's A/B block uses (an
    # experiment no live page uses cannot start: tests/experiments/test_usage.py).
    experiment = Experiment.objects.get(key="home-hero")
    base = f"/admin/experiments/report/{experiment.pk}/"
    editor.post(base + "start/")
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING and experiment.started_at
    editor.post(base + "pause/")
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.PAUSED
    editor.post(base + "complete/")
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.COMPLETED and experiment.stopped_at
    response = editor.post(base + "start/", follow=True)
    assert "cannot start" in response.content.decode()


def test_report_exports_csv(editor):
    experiment = Experiment.objects.get(key="home-hero")
    response = editor.get(f"/admin/experiments/report/{experiment.pk}/csv/")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("goal,segment,variant,exposures,conversions")
    assert any(line.startswith("Sign-up,everyone,control,") for line in lines)


def test_declaring_a_winner_puts_its_content_in_a_new_draft(editor):
    section = SectionPage.objects.get(slug="cats")
    experiment = Experiment.objects.create(key="cats-intro", name="Cats intro")
    control = Variant.objects.create(
        experiment=experiment, name="control", weight=0.5, sort_order=0
    )
    bold = Variant.objects.create(experiment=experiment, name="bold", weight=0.5, sort_order=1)
    Goal.objects.create(
        experiment=experiment,
        name="Sign-up",
        is_primary=True,
        kind=GoalKind.EVENT,
        event_type="sign_up",
    )
    experiment.start()
    block = {
        "type": "experiment",
        "value": {
            "experiment": "cats-intro",
            "variants": [
                {
                    "variant": "control",
                    "content": [{"type": "paragraph", "value": "<p>Plain intro</p>"}],
                },
                {
                    "variant": "bold",
                    "content": [{"type": "paragraph", "value": "<p>BOLD intro</p>"}],
                },
            ],
        },
    }
    section.body = [block, *section.body.raw_data]
    section.save_revision().publish()
    assert control.pk

    response = editor.post(
        f"/admin/experiments/report/{experiment.pk}/winner/", {"variant": bold.pk}, follow=True
    )
    assert "Draft revisions with its content are ready to publish on: Cats" in (
        response.content.decode()
    )
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.COMPLETED and experiment.winner == bold
    section.refresh_from_db()
    assert section.has_unpublished_changes
    draft = section.get_latest_revision_as_object()
    assert [b.block_type for b in draft.body][0] == "paragraph"
    assert "BOLD intro" in str(draft.body[0].value)
    assert "experiment" not in [b.block_type for b in draft.body]
    live = SectionPage.objects.get(pk=section.pk)
    assert live.body[0].block_type == "experiment"  # nothing changes until the editor publishes


def test_the_report_lists_the_pages_using_the_experiment(editor):
    experiment = Experiment.objects.get(key="home-hero")
    html = editor.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    home = HomePage.objects.get()
    assert "Pages using this experiment" in html
    assert f"/admin/pages/{home.pk}/edit/" in html
