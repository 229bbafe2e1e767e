"""Browser acceptance (issue 18): an editor explains a visitor found by e-mail, and combines two
segments in the page preview from the UI (no address editing). Screenshots for the editor guide.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_explain_by_email(site, admin_page, screenshot, db_turn):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from personalization.models import Segment, Visitor

    with db_turn():
        hanako = get_user_model().objects.get(email="hanako@example.com")
        Visitor.objects.update_or_create(user=hanako, defaults={"last_seen_at": timezone.now()})
        women = Segment.objects.get(slug="women-20s")
        mobile = Segment.objects.get(slug="mobile-visitors")
        dogs = Segment.objects.get(slug="dog-people")

    page = admin_page
    page.get_by_role("button", name="Personalization").click()
    page.get_by_role("link", name="Explain a visitor").click()
    expect(page.get_by_role("heading", name="Recent visitors")).to_be_visible()
    page.get_by_label("Member e-mail or name").fill("hanako@example.com")
    page.get_by_role("button", name="Explain", exact=True).click()

    expect(page.locator("[data-explained]")).to_contain_text("hanako@example.com")
    segments = page.locator("[data-explain-segments]")
    women_row = segments.locator(f'tr[data-segment="{women.pk}"]')
    expect(women_row).to_have_attribute("data-state", "yes")
    expect(women_row).to_contain_text("Age is between 20 and 29")
    expect(women_row).not_to_contain_text("e.g.")
    mobile_row = segments.locator(f'tr[data-segment="{mobile.pk}"]')
    expect(mobile_row).to_contain_text("not known outside a request")
    expect(mobile_row).to_contain_text("Depends on the request")

    pages = page.locator("[data-explain-pages]")
    expect(pages).to_contain_text("Pawprint Club")  # the home page's title
    expect(pages.get_by_role("link", name=dogs.name).first).to_be_visible()
    screenshot(page, "e2e-explain-by-email", full_page=True)

    link = women_row.get_by_role("link", name=women.name)
    expect(link).to_have_attribute("href", f"/admin/personalization/segments/edit/{women.pk}/")


def test_combining_two_segments_in_preview_from_the_ui(site, admin_page, screenshot, db_turn):
    from cms.models import HomePage
    from personalization.models import Segment

    with db_turn():
        home = HomePage.objects.get()
        dogs = Segment.objects.get(slug="dog-people")
        women = Segment.objects.get(slug="women-20s")

    page = admin_page
    page.goto(site(f"/admin/pages/{home.pk}/edit/"))
    page.get_by_role("button", name="Toggle preview").click()
    preview = page.frame_locator("iframe[title='Preview']:not(.w-preview__proxy)")
    expect(preview.locator('.personalized[data-segment="default"]')).to_be_visible()

    mode = page.get_by_label("Preview mode")
    options = mode.locator("option")
    expect(options.nth(1)).to_contain_text("(used on this page)")

    combine = page.locator("[data-preview-segments]")
    combine.locator("summary").click()
    combine.get_by_label(dogs.name, exact=True).check()
    combine.get_by_label(women.name, exact=True).check()
    combine.get_by_role("button", name="Preview combined").click()

    expect(mode).to_have_value(re.compile(r"^segment-\d+\+\d+$"))
    combined = sorted(mode.input_value().removeprefix("segment-").split("+"))
    assert combined == sorted([str(dogs.pk), str(women.pk)])
    # the higher priority of the two wins, as on the site
    winner = dogs if dogs.priority > women.priority else women
    expect(preview.locator(f'.personalized[data-segment="{winner.pk}"]')).to_be_visible()
    screenshot(page, "e2e-preview-combined-segments")
