"""The experiment report and its actions in a real browser (issue 16 §2, §5), each ending in a
screenshot for the editor guide (docs/screenshots/e2e-5-*.png):

1. "Declare winner" shows the verdict and asks first, loudly when the result is not conclusive;
   once confirmed, a new visitor sees the winner's hero at once, and no exposure is recorded;
2. the verdict banner names a clear winner, the tables fit the admin's width and the chart's
   legend shows every variant's full name;
3. the banner says not to trust the results on a sample ratio mismatch;
4. the experiment form fills the key from the name and shows each goal's fields for its kind.

Run with `pytest tests/e2e`; see tests/e2e/conftest.py for the browser and the live server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WINNER_HERO = "Food, care and play your pet will love"


def accept_cookies(page: Page) -> None:
    banner = page.get_by_role("complementary", name="Cookies and consent")
    if banner.count():
        banner.get_by_role("button", name="Accept all").click()
        page.wait_for_load_state()


def verdict(page: Page):
    return page.locator("section.experiment-verdict")


def open_report(page: Page, site, experiment) -> None:
    page.goto(site(f"/admin/experiments/report/{experiment.pk}/"))
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Experiments")


def overflowing(page: Page) -> list[str]:
    """Results tables wider than the space the admin gives them, and cells whose text spills
    over their neighbours (none, we hope)."""
    return page.evaluate(
        """() => [
            ...[...document.querySelectorAll('table.results-table')]
                .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
                .map(t => 'table after ' + (t.previousElementSibling || {}).textContent),
            ...[...document.querySelectorAll('table.results-table th, table.results-table td')]
                .filter(c => c.scrollWidth > c.clientWidth + 1)
                .map(c => 'cell ' + c.textContent.trim()),
        ]"""
    )


def test_1_declaring_a_winner_asks_first_then_every_new_visitor_sees_it(
    site, admin_page, new_page, drain_jobs, screenshot, db_turn
):
    from experiments.models import Experiment, Exposure

    with db_turn():
        experiment = Experiment.objects.get(key="home-hero")
        exposed = Exposure.objects.filter(experiment=experiment).count()
    page = admin_page
    open_report(page, site, experiment)
    page.get_by_label("Winning variant").select_option(label="member-benefits")
    page.get_by_role("button", name="Declare winner…").click()

    heading = page.get_by_role("heading", name="Declare “member-benefits” the winner?")
    expect(heading).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("The result is not conclusive")
    expect(verdict(page)).to_contain_text("Collecting data: not enough data for a verdict yet.")
    screenshot(page, "e2e-5-declare-winner-confirmation")
    page.get_by_role("button", name="Yes, declare “member-benefits” the winner").click()

    expect(page.get_by_text("Every visitor now sees “member-benefits”")).to_be_visible()
    review = page.get_by_role("link", name=re.compile(r"^Review the draft of"))
    expect(review).to_have_attribute("href", re.compile(r"/revisions/compare/live\.\.\.\d+/$"))
    expect(verdict(page)).to_contain_text("Winner declared: “member-benefits”.")
    screenshot(page, "e2e-5-winner-declared")

    for _ in range(3):  # new visitors, each with their own cookies
        visitor = new_page()
        visitor.goto(site("/"))
        accept_cookies(visitor)
        expect(visitor.get_by_role("heading", level=1)).to_have_text(WINNER_HERO)
    drain_jobs()
    with db_turn():
        assert Exposure.objects.filter(experiment=experiment).count() == exposed


def test_2_the_verdict_banner_names_a_clear_winner_and_the_report_fits_the_page(
    site, admin_page, screenshot, db_turn
):
    from tests.experiments.report_data import fill, running_experiment

    name = "green-button-with-a-long-name"
    with db_turn():
        experiment = running_experiment(key="cta-colour", variants=(("control", 0.5), (name, 0.5)))
        fill(experiment, {"control": (2400, 120), name: (2400, 240)})
    page = admin_page
    open_report(page, site, experiment)
    banner = verdict(page)
    expect(banner).to_have_attribute("data-verdict", "better")
    expect(banner.get_by_role("heading")).to_have_text(
        f"“{name}” is better than control on the primary goal."
    )
    expect(banner).to_contain_text("+100.0 % on Sign-up")
    row = page.locator(f'#everyone tr[data-variant="{name}"]')
    expect(row.locator("td.rate")).to_have_text("10.00 %")
    expect(row.locator("td.note")).to_contain_text("Better than control.")
    expect(row.locator("svg.uplift-bar")).to_be_visible()
    expect(page.locator("ul.chart-legend")).to_contain_text(name)
    assert overflowing(page) == []
    screenshot(page, "e2e-5-report-clear-winner")
    page.locator("#everyone").scroll_into_view_if_needed()
    screenshot(page.locator("#everyone"), "e2e-5-report-results-table")


def test_3_the_verdict_banner_warns_of_a_sample_ratio_mismatch(
    site, admin_page, screenshot, db_turn
):
    from tests.experiments.report_data import fill, running_experiment

    with db_turn():
        experiment = running_experiment(key="srm-test")
        fill(experiment, {"control": (2000, 100), "b": (1500, 200)})
    page = admin_page
    open_report(page, site, experiment)
    banner = verdict(page)
    expect(banner).to_have_attribute("data-verdict", "srm")
    expect(banner.get_by_role("heading")).to_have_text(
        "Sample ratio mismatch: don't trust these results."
    )
    expect(banner).to_contain_text("Fix the cause before reading any figure below.")
    screenshot(banner, "e2e-5-report-sample-ratio-mismatch")


def test_4_the_form_fills_the_key_from_the_name_and_shows_goal_fields_by_kind(site, admin_page):
    page = admin_page
    page.goto(site("/admin/experiments/add/"))
    name = page.locator('input[name="name"]')
    name.fill("Spring sale banner")
    name.blur()
    expect(page.locator('input[name="key"]')).to_have_value("spring-sale-banner")

    page.get_by_role("button", name="Add goal").click()
    kind = page.locator('select[name="goals-0-kind"]')
    custom = page.locator('input[name="goals-0-custom_name"]')
    event_type = page.locator('select[name="goals-0-event_type"]')
    kind.select_option("custom")
    expect(custom).to_be_visible()
    expect(event_type).to_be_hidden()
    kind.select_option("event")
    expect(event_type).to_be_visible()
    expect(custom).to_be_hidden()
