"""The member site in a real browser (issue 18, "The member site"): a demo member logs in and
finds the member pages listed at /members/ (screenshot e2e-members-area), and the layout holds
at a phone's and a wide screen's width — the home body centred like the header, the hero text
beside its illustration and readable, the footer at the bottom of a short page, the consent
banner a bar below the content, the privacy choices one per line."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cms.demo import DEMO_MEMBER_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MEMBER_PAGES = ("Member offers this month", "Ask our vet")


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not drawn"
    return found


def test_the_member_area_listing_for_a_member(site, new_page, screenshot):
    page = new_page()
    page.goto(site("/members/"))
    expect(page).to_have_url(site("/account/login/?next=/members/"))
    expect(page.get_by_text("That page is for members. Log in to read it.")).to_be_visible()
    page.get_by_role("button", name="Accept all").click()
    page.get_by_label("Email address").fill("hanako@example.com")
    page.get_by_label("Password").fill(DEMO_MEMBER_PASSWORD)
    page.locator("form.form").get_by_role("button", name="Log in").click()

    expect(page).to_have_url(site("/members/"))
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    cards = page.locator(".card-grid .card-title")
    expect(cards).to_have_text(list(MEMBER_PAGES))
    expect(page.get_by_text("Nothing here yet")).to_have_count(0)
    expect(page.get_by_role("link", name="Join free")).to_have_count(0)
    screenshot(page, "e2e-members-area")

    page.get_by_role("link", name=MEMBER_PAGES[1]).click()
    expect(page.get_by_role("heading", level=1, name=MEMBER_PAGES[1])).to_be_visible()


@pytest.mark.parametrize("width", [375, 1920])
def test_the_member_sites_layout_at_a_phones_and_a_wide_screens_width(site, new_page, width):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(site("/"))

    header, body = box(page, ".header-inner"), box(page, "main > .body-stream")
    assert abs(body["x"] - header["x"]) <= 1 and abs(body["width"] - header["width"]) <= 1
    heading, image = box(page, ".hero-text h1"), box(page, ".hero-image")
    beside = heading["x"] + heading["width"] <= image["x"]
    below = heading["y"] >= image["y"] + image["height"]
    assert beside or below, (heading, image)  # never over the illustration
    colour = page.locator(".hero-text h1").evaluate("el => getComputedStyle(el).color")
    assert colour != "rgb(255, 255, 255)"  # dark text on the pale hero, not white

    # The consent banner sits below the footer once scrolled to the end: it covers nothing.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    footer, banner = box(page, ".site-footer"), box(page, ".consent-banner")
    assert banner["y"] >= footer["y"] + footer["height"] - 1
    assert banner["width"] >= width - 20  # a bar across the page, not a floating card

    # A short page: the footer (then the banner) reach the bottom of the window.
    page.goto(site("/account/login/"))
    page.get_by_role("button", name="Only necessary").click()
    expect(page.locator(".consent-banner")).to_have_count(0)
    footer = box(page, ".site-footer")
    assert footer["y"] + footer["height"] >= 800 - 1
    title, top = box(page, "main h1"), box(page, ".site-header")
    assert title["y"] >= top["y"] + top["height"] + 16  # the heading clear of the header

    page.goto(site("/personalization/consent/"))
    rows = [
        box(page, f"input[name={name}]")["y"]
        for name in ("analytics", "personalization", "marketing")
    ]
    assert rows[0] < rows[1] < rows[2]  # one choice per line
