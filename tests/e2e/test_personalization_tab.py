"""The page editor's "Personalization" tab in a real browser (issue 17 §5): a page of many
segments shows its keys seen, hit rate, possible combinations and the warning; ends in a
screenshot for the editor guide (docs/screenshots/e2e-personalization-tab.png).

Run with `pytest tests/e2e`; see tests/e2e/conftest.py for the browser and the live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_experiment_report import overflowing

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_personalization_tab_warns_about_a_page_of_many_segments(
    site, admin_page, new_page, screenshot, db_turn
):
    from cms.models import ContentPage
    from personalization.models import Segment
    from tests.experiments.holdout_helpers import personalized_block
    from tests.experiments.variant_helpers import publish_body

    with db_turn():
        segments = [
            Segment.objects.create(name=f"Reader group {n}", slug=f"reader-group-{n}")
            for n in range(1, 9)
        ]
        page = ContentPage.objects.get(slug="choosing-dog-food")
        publish_body(page, [personalized_block(segments)])
    for _ in range(3):  # three visitors of one key: a miss, then two hits
        new_page().goto(site(page.url))

    editor = admin_page
    editor.goto(site(f"/admin/pages/{page.pk}/edit/"))
    editor.get_by_role("tab", name="Personalization").click()
    panel = editor.locator("section.personalization-cost")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("alert")).to_contain_text("more than 64 different combinations")
    expect(panel.get_by_role("link", name="Reader group 1")).to_be_visible()
    today = panel.locator("tr.today")
    expect(today.locator(".views")).to_have_text("3")
    expect(today.locator(".rate")).to_have_text("67%")
    expect(panel.locator(".personalization-estimate.live .keys")).to_have_text("2,304")
    assert overflowing(editor) == []
    editor.set_viewport_size({"width": 1280, "height": 1500})  # the whole tab, footer below it
    screenshot(editor, "e2e-personalization-tab")
