"""The journey step editor in a real browser (issue 18): a step shows only the fields of its
action — an e-mail step its e-mail, a webhook step its URL and secret — also for a step added
with "Add step", and an e-mail step saves with an empty webhook secret; the report has its
funnel section under Wagtail's breadcrumbs.

Run with `pytest tests/e2e/test_journey_step_editor.py`; needs Debian's chromium (see
tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def field(step, name: str):
    """The wrapper (label, input, help) of one field of a step's form."""
    return step.locator(f"[data-field-wrapper]:has([name$='-{name}'])")


def test_a_step_shows_only_its_actions_fields(site, admin_page, db_turn):
    from personalization.journeys.models import Journey

    page = admin_page
    with db_turn():
        journey = Journey.objects.get(name="Cart abandonment")
    page.goto(site(f"/admin/personalization/journeys/edit/{journey.pk}/"))
    step = page.locator("[id^='inline_child_steps-']").first
    action = step.locator("select[name$='-action']")
    expect(action).to_have_value("email")
    expect(field(step, "email_template")).to_be_visible()
    expect(field(step, "webhook_secret")).to_be_hidden()
    expect(field(step, "webhook_url")).to_be_hidden()
    expect(field(step, "message_text")).to_be_hidden()

    action.select_option("webhook")
    expect(field(step, "webhook_url")).to_be_visible()
    expect(field(step, "webhook_secret")).to_be_visible()
    expect(field(step, "email_template")).to_be_hidden()

    action.select_option("email")
    # hidden and empty: must not block saving
    step.locator("[name$='-webhook_secret']").evaluate("input => { input.value = '' }")
    page.get_by_role("button", name="Add step").click()
    added = page.locator("[id^='inline_child_steps-']").last
    expect(field(added, "webhook_secret")).to_be_hidden()
    added.locator("select[name$='-action']").select_option("on_site")
    expect(field(added, "message_text")).to_be_visible()
    added.get_by_label("Message text").fill("Your cart misses you")

    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".messages .success")).to_contain_text("updated")
    with db_turn():
        actions = list(journey.steps.order_by("sort_order").values_list("action", flat=True))
    assert actions[-1] == "on_site" and actions[0] == "email"

    page.goto(site(f"/admin/personalization/journeys/report/{journey.pk}/"))
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Journeys")
    expect(page.get_by_role("heading", name="Funnel")).to_be_visible()
    # The demo's journey has not run yet: the funnel says so rather than drawing empty bars.
    expect(page.get_by_text("Nobody has entered this journey yet.")).to_be_visible()
