"""Layers and bandits in a real browser (issue 16 §4): the experiment form's "Layer and
allocation" panel offers each layer with its free room, and a bandit's report warns about its
pooled figures and shows the weight history, fitting the admin's width. Screenshots for the
editor guide: docs/screenshots/e2e-layer-allocation.png, e2e-bandit-report.png.

Run with `pytest tests/e2e`; see tests/e2e/conftest.py for the browser and the live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_experiment_report import overflowing

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_form_offers_each_layer_with_its_free_room(site, admin_page, screenshot, db_turn):
    from experiments.models import Experiment, ExperimentStatus, Layer
    from tests.experiments.variant_helpers import make_experiment

    with db_turn():
        layer = Layer.objects.create(key="home-hero", name="Home page hero")
        hero = make_experiment("hero-copy", ["control", "b"])
        Experiment.objects.filter(pk=hero.pk).update(
            layer=layer, namespace_start=0.0, namespace_end=0.5, status=ExperimentStatus.RUNNING
        )
    page = admin_page
    page.goto(site("/admin/experiments/add/"))
    select = page.get_by_label("Layer", exact=True)
    select.select_option(label="Home page hero (free: 50–100 %)")
    page.get_by_label("Share of the layer (%)").fill("30")
    page.get_by_label("Bandit: shift traffic to the better variants (Thompson sampling)").check()
    panel = page.locator("section").filter(
        has=page.get_by_role("heading", name="Layer and allocation")
    )
    expect(panel.get_by_label("Exploration floor (%)")).to_have_value("5")
    screenshot(panel.last, "e2e-layer-allocation")


def test_a_bandit_report_warns_and_shows_the_weight_history(site, admin_page, screenshot, db_turn):
    from tests.experiments.test_bandit_job import bandit, observed
    from tests.experiments.test_bandit_report import recount_and_reweight

    with db_turn():
        experiment = bandit(burn_in=400)
        observed(experiment, {"control": (300, 15), "b": (300, 16), "c": (300, 60)})
        recount_and_reweight(experiment)
        observed(experiment, {"control": (100, 5), "b": (100, 6), "c": (100, 20)})
        recount_and_reweight(experiment)
        observed(experiment, {"control": (50, 2), "b": (50, 3), "c": (900, 180)})
        recount_and_reweight(experiment)
    page = admin_page
    page.goto(site(f"/admin/experiments/report/{experiment.pk}/"))
    warning = page.get_by_role("note").filter(has_text="read the pooled figures with care")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("run a fixed-weight test")
    history = page.locator("section#bandit")
    expect(history.get_by_role("img", name="Weight of each variant over time")).to_be_visible()
    expect(history.locator("table.bandit-arms")).to_contain_text("90.0 %")
    assert overflowing(page) == []
    page.evaluate(  # the admin's sticky header would cover the top of the section's shot
        """() => document.querySelectorAll('*').forEach(e => {
            if (getComputedStyle(e).position === 'sticky') e.style.position = 'static';
        })"""
    )
    screenshot(history, "e2e-bandit-report")
