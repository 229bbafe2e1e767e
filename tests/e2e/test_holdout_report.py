"""The report "Is personalization working?" in a real browser (issue 16 §4): one section per
holdout with its plain verdict, the lift table fits the admin's width; ends in a screenshot for
the editor guide (docs/screenshots/e2e-holdout-report.png).

Run with `pytest tests/e2e`; see tests/e2e/conftest.py for the browser and the live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_experiment_report import overflowing

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_holdout_report_gives_each_segment_a_verdict_and_fits_the_page(
    site, admin_page, screenshot, db_turn
):
    from personalization.models import Segment
    from tests.experiments.holdout_helpers import make_holdout
    from tests.experiments.report_data import fill

    with db_turn():
        dogs = make_holdout(Segment.objects.get(slug="dog-people"), 0.2)
        fill(dogs, {"default": (1000, 50), "personalized": (4000, 600)})
        mobile = make_holdout(Segment.objects.get(slug="mobile-visitors"), 0.5)
        fill(mobile, {"default": (600, 60), "personalized": (600, 62)})
    page = admin_page
    page.goto(site("/admin/personalization/holdouts-report/"))
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Holdouts")
    section = page.locator('section[data-holdout="holdout-dog-people"]')
    expect(section.locator(".experiment-verdict")).to_have_attribute("data-verdict", "better")
    expect(section).to_contain_text("Personalization works: +200.0 % on Sign-up.")
    expect(section.locator("svg.uplift-bar")).to_be_visible()
    other = page.locator('section[data-holdout="holdout-mobile-visitors"]')
    expect(other).to_contain_text("No detectable effect of personalization on Sign-up so far.")
    assert overflowing(page) == []
    screenshot(page, "e2e-holdout-report", full_page=True)
