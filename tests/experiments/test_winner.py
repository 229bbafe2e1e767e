"""Shipping a winner is safe and immediate: "Declare winner" and "Stop and roll back" show the
current verdict and ask first (loudly when the data do not support it); once declared, every
visitor gets the winner's content at once — site and API, no exposure recorded — and the message
links the draft revisions that put it into the pages for good."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from cms.demo import HERO_VARIANT
from cms.models import HomePage, SectionPage
from experiments.models import Assignment, Experiment, ExperimentStatus, Exposure
from tests.experiments.report_data import fill, running_experiment

pytestmark = pytest.mark.django_db
CONTROL_HERO = "Everything your pet loves, picked for you"
WINNER_HERO = HERO_VARIANT["hero_title"]


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.fixture
def hero_test():
    experiment = Experiment.objects.get(key="home-hero")
    return experiment, {v.name: v for v in experiment.variants.all()}


def hero(html: str) -> str:
    return re.search(r"<h1>([^<]*)</h1>", html).group(1)


def new_visitors_see(run_jobs, times: int = 5) -> set[str]:
    """The heroes that fresh visitors (own cookies each) are served, jobs run."""
    with run_jobs():
        return {hero(Client().get("/").content.decode()) for _ in range(times)}


# CONFIRMATION
# ------------------------------------------------------------------------------


def test_declare_winner_asks_first_and_warns_loudly_when_the_result_is_not_conclusive(
    editor, hero_test
):
    experiment, variants = hero_test
    url = f"/admin/experiments/report/{experiment.pk}/winner/"
    response = editor.get(url, {"variant": variants["member-benefits"].pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Declare “member-benefits” the winner?" in html
    assert 'role="alert"' in html and "The result is not conclusive" in html
    assert "Collecting data: not enough data for a verdict yet." in html  # the current verdict
    assert "Yes, declare “member-benefits” the winner" in html
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING  # asking changed nothing


def test_no_warning_when_the_data_support_the_winner_and_one_when_they_oppose_it(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (2000, 100), "b": (2000, 200)})
    variants = {v.name: v for v in experiment.variants.all()}
    url = f"/admin/experiments/report/{experiment.pk}/winner/"
    supported = editor.get(url, {"variant": variants["b"].pk}).content.decode()
    assert "“b” is better than control on the primary goal." in supported
    assert 'role="alert"' not in supported
    opposed = editor.get(url, {"variant": variants["control"].pk}).content.decode()
    assert 'role="alert"' in opposed and "The results point the other way" in opposed


def test_a_variant_of_another_experiment_cannot_be_declared(editor, hero_test):
    experiment, _ = hero_test
    other = running_experiment()
    foreign = other.variants.get(name="b")
    response = editor.post(
        f"/admin/experiments/report/{experiment.pk}/winner/", {"variant": foreign.pk}, follow=True
    )
    assert "Choose one of this experiment" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING


# SERVING THE WINNER
# ------------------------------------------------------------------------------


def test_once_declared_every_new_visitor_gets_the_winner_and_no_exposure_is_recorded(
    editor, hero_test, run_jobs
):
    experiment, variants = hero_test
    assert new_visitors_see(run_jobs, times=12) == {CONTROL_HERO, WINNER_HERO}  # a running test
    exposures = Exposure.objects.filter(experiment=experiment).count()
    assert exposures == 12

    editor.post(
        f"/admin/experiments/report/{experiment.pk}/winner/",
        {"variant": variants["member-benefits"].pk},
    )
    assert new_visitors_see(run_jobs, times=8) == {WINNER_HERO}
    with run_jobs():
        api = APIClient().get("/api/v1/pages/find/", {"path": "/"}).json()
    assert api["hero"]["title"] == WINNER_HERO
    assert {"experiment": "home-hero", "variant": "member-benefits", "counted": False} in (
        api["meta"]["experiments"]
    )
    assert Exposure.objects.filter(experiment=experiment).count() == exposures
    assert Assignment.objects.filter(experiment=experiment).count() == exposures


def test_the_message_links_the_draft_revisions_that_keep_the_winner(editor, hero_test):
    experiment, variants = hero_test
    response = editor.post(
        f"/admin/experiments/report/{experiment.pk}/winner/",
        {"variant": variants["member-benefits"].pk},
        follow=True,
    )
    html = response.content.decode()
    home = HomePage.objects.get()
    assert "Every visitor now sees “member-benefits”" in html
    assert f"Draft revisions with its content are ready to publish on: {home.title}" in html
    compare = f"/admin/pages/{home.pk}/revisions/compare/live...{home.latest_revision_id}/"
    assert compare in html and f"Review the draft of “{home.title}”" in html
    draft = home.get_latest_revision_as_object()
    assert draft.hero_title == WINNER_HERO and home.has_unpublished_changes


def test_a_page_published_after_the_decision_serves_its_own_content(editor, hero_test, run_jobs):
    experiment, variants = hero_test
    editor.post(
        f"/admin/experiments/report/{experiment.pk}/winner/",
        {"variant": variants["member-benefits"].pk},
    )
    home = HomePage.objects.get()
    draft = home.get_latest_revision_as_object()
    draft.hero_title = "Edited after the test"
    draft.save_revision().publish()
    assert new_visitors_see(run_jobs) == {"Edited after the test"}


def test_a_block_level_winner_is_served_before_anyone_publishes(editor, run_jobs):
    section = SectionPage.objects.get(slug="cats")
    experiment = running_experiment(key="cats-intro", variants=(("control", 0.5), ("bold", 0.5)))
    intros = {"control": "Plain intro", "bold": "BOLD intro"}
    block = {
        "type": "experiment",
        "value": {
            "experiment": "cats-intro",
            "variants": [
                {"variant": name, "content": [{"type": "paragraph", "value": f"<p>{text}</p>"}]}
                for name, text in intros.items()
            ],
        },
    }
    section.body = [block, *section.body.raw_data]
    section.save_revision().publish()
    url = section.url

    def intros_seen(times: int) -> set[str]:
        with run_jobs():
            pages = [Client().get(url).content.decode() for _ in range(times)]
        return {name for page in pages for name, text in intros.items() if text in page}

    assert intros_seen(12) == {"control", "bold"}
    before = Exposure.objects.filter(experiment=experiment).count()
    bold = experiment.variants.get(name="bold")
    editor.post(f"/admin/experiments/report/{experiment.pk}/winner/", {"variant": bold.pk})
    assert intros_seen(6) == {"bold"}
    assert Exposure.objects.filter(experiment=experiment).count() == before


# STOP AND ROLL BACK
# ------------------------------------------------------------------------------


def test_stop_and_roll_back_asks_first_then_everyone_sees_the_control(editor, hero_test, run_jobs):
    experiment, _ = hero_test
    url = f"/admin/experiments/report/{experiment.pk}/complete/"
    html = editor.get(url).content.decode()
    assert "Stop “Home hero headline” and roll back?" in html
    assert 'role="alert"' in html and "you will not know whether any variant was better" in html
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING

    response = editor.post(url, follow=True)
    assert "every visitor sees the control again" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.COMPLETED and experiment.winner is None
    assert new_visitors_see(run_jobs) == {CONTROL_HERO}
    assert not Exposure.objects.filter(experiment=experiment).exists()


def test_rolling_back_a_better_variant_is_warned_about(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (2000, 100), "b": (2000, 200)})
    html = editor.get(f"/admin/experiments/report/{experiment.pk}/complete/").content.decode()
    assert 'role="alert"' in html and "throws that improvement away" in html


def test_the_report_offers_both_actions_behind_their_confirmation(editor, hero_test):
    experiment, _ = hero_test
    html = editor.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    assert f'<form method="get" action="/admin/experiments/report/{experiment.pk}/winner/">' in (
        html
    )
    assert f'href="/admin/experiments/report/{experiment.pk}/complete/"' in html
