"""Favourites in a real browser (issue 19): an anonymous visitor favourites a product on a card
in the Shop section, the button stays pressed on the next visit, the visitor joins the club and
finds the product in "My favourites" (moved to the member with the rest of their history), and
removes it there. The product cards and the product page pass the accessibility checks (axe,
as tests/e2e/test_accessibility.py), in English and in Japanese.

Needs Debian's chromium (see tests/e2e/conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import axe_violations, blocking

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOP = {"en": "/shop/", "ja": "/ja/shop/"}
PRODUCT = "DOG-FOOD-001"


def accept_cookies(page: Page) -> None:
    page.get_by_role("button", name="Accept all").click()


def test_an_anonymous_favourite_follows_the_visitor_into_my_favourites(
    site, new_page, drain_jobs, screenshot, db_turn
):
    from personalization.commerce.models import Product

    page = new_page()
    page.goto(site(SHOP["en"]))
    accept_cookies(page)
    dogs = page.get_by_role("region", name="For dogs")
    card = dogs.locator("article.product-card").first
    button = card.locator("button[data-favourite-sku]")
    sku = button.get_attribute("data-favourite-sku")
    with db_turn():
        name = Product.objects.get(sku=sku).name
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_accessible_name(re.compile(rf"^Favourite\s+{re.escape(name)}$"))

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    card.scroll_into_view_if_needed()
    screenshot(page, "e2e-favourite-on-a-card")

    page.reload()  # the state comes back from the server, filled into the cached page
    pressed = page.locator(f'button[data-favourite-sku="{sku}"]').first
    expect(pressed).to_have_attribute("aria-pressed", "true")

    card.locator("a.product-card-link").first.click()  # the product page shows it too
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page.locator(f'button[data-favourite-sku="{sku}"]').first).to_have_attribute(
        "aria-pressed", "true"
    )

    page.get_by_role("link", name="Join free").first.click()
    page.get_by_label("Your name").fill("Sora")
    page.get_by_label("Email address").fill("sora@example.com")
    page.get_by_label("Password", exact=True).fill("kibble-and-catnip-77")
    page.get_by_label("Password (again)").fill("kibble-and-catnip-77")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    drain_jobs()

    page.get_by_role("link", name="My favourites").click()
    expect(page.get_by_role("heading", level=1, name="My favourites")).to_be_visible()
    items = page.locator(".favourite-item")
    expect(items).to_have_count(1)
    expect(items.first.get_by_role("link", name=name)).to_be_visible()
    screenshot(page, "e2e-my-favourites")

    items.first.get_by_role("button", name=re.compile(rf"^Remove\s+{re.escape(name)}$")).click()
    expect(page.get_by_text(f"{name} is no longer a favourite.")).to_be_visible()
    expect(page.locator(".favourite-item")).to_have_count(0)
    drain_jobs()


def test_a_second_click_takes_the_favourite_back(site, new_page):
    page = new_page()
    page.goto(site(f"/products/{PRODUCT}/"))
    accept_cookies(page)
    button = page.locator(f'main .product-actions button[data-favourite-sku="{PRODUCT}"]')
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(button).to_have_attribute("aria-pressed", "false")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_product_cards_and_the_product_page_pass_the_accessibility_checks(site, new_page, language):
    page = new_page()
    prefix = "" if language == "en" else "/ja"
    problems = []
    for path in (SHOP[language], f"{prefix}/products/{PRODUCT}/"):
        response = page.goto(site(path))
        assert response is not None and response.ok, path
        expect(page.locator("button[data-favourite-sku]").first).to_be_visible()
        problems += [f"{path}: {p}" for p in blocking(axe_violations(page))]
    page.locator("button[data-favourite-sku]").first.click()  # pressed, then checked again
    expect(page.locator("button[aria-pressed='true']").first).to_be_visible()
    problems += [f"pressed: {p}" for p in blocking(axe_violations(page))]
    assert problems == []
