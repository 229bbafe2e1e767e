"""A recommendation clicked in a real browser (issue 19): a visitor opens the demo home page, whose
"Picked for you" block (report name `home-picks`) shows products the recommender picked for them,
clicks one of the cards and lands on the product's page. The cards' script
(`cms/js/recommendations.js`) reports the click while the browser navigates away: the stored
`recommendation_click` names that visitor, the card's SKU, its arm and the block; the
`recommendation_impression` the server recorded when it served the block names the same arm for
that SKU; and Reports → Recommendations in the admin counts the click for that arm.

The test demo leaves out the shopping history (DEMO_SHOPPING_HISTORY=False), so the visitor is
a stranger to the recommender: the block falls back to the catalogue's active products in stock.

Needs Debian's chromium (see tests/e2e/conftest.py)."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BLOCK = "home-picks"  # the demo home page's Recommendations block (cms/demo/personalized.py)
WAIT_SECONDS = 10


def visitor_of(page) -> uuid.UUID:
    """The visitor the browser is: its visitor cookie, read as the site reads it."""
    from django.test import RequestFactory

    from personalization.middleware import read_visitor_cookie

    request = RequestFactory().get("/")
    request.COOKIES = {c["name"]: c["value"] for c in page.context.cookies()}
    visitor = read_visitor_cookie(request)
    assert visitor is not None, request.COOKIES
    return visitor


def stored_clicks(visitor: uuid.UUID, drain_jobs, db_turn) -> list:
    """The visitor's stored `recommendation_click` events, once the click has been reported and
    the event worker has run: the report leaves the page as it navigates, so it is waited for."""
    from personalization.events.models import Event, EventType

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        drain_jobs()
        with db_turn():
            clicks = list(
                Event.objects.filter(
                    visitor__uuid=visitor, type=EventType.RECOMMENDATION_CLICK
                ).values_list("properties", flat=True)
            )
        if clicks or time.monotonic() > deadline:
            return clicks
        time.sleep(0.2)


def impressions_of(visitor: uuid.UUID, db_turn) -> list[dict]:
    """The visitor's stored `recommendation_impression` properties, in the order recorded."""
    from personalization.events.models import Event, EventType

    with db_turn():
        return list(
            Event.objects.filter(visitor__uuid=visitor, type=EventType.RECOMMENDATION_IMPRESSION)
            .order_by("occurred_at", "pk")
            .values_list("properties", flat=True)
        )


def picks_on(block) -> list[tuple[str, str, str]]:
    """(sku, arm, block) of each card the block shows, in order."""
    cards = block.locator("article.product-card[data-recommendation-sku]")
    expect(cards).to_have_count(4)  # the block's limit: the demo catalogue fills every slot
    return [
        (
            card.get_attribute("data-recommendation-sku"),
            card.get_attribute("data-recommendation-arm"),
            card.get_attribute("data-recommendation-block"),
        )
        for card in cards.all()
    ]


@pytest.mark.parametrize(
    ("pet", "clicked_arm"),
    [(None, "explore"), ("Cat", "exploit")],
    ids=["a stranger explores", "a cat person exploits"],
)
def test_a_clicked_recommendation_is_stored_with_its_arm_and_counted_in_the_report(
    site, new_page, admin_page, drain_jobs, db_turn, pet, clicked_arm
):
    """A stranger (nothing known: every slot explores) and a visitor who told the home page's
    form about their cat (cat products are known interests: exploit slots) each click a card of
    that arm."""
    from personalization.events.models import Event, EventType

    page = new_page()
    page.goto(site("/"))
    page.get_by_role("button", name="Accept all").click()
    block = page.locator(f'section[data-recommendations="{BLOCK}"]')
    expect(block.get_by_role("heading", name="Picked for you")).to_be_visible()
    if pet:
        form = page.locator("section.profile-form")
        form.get_by_label("Your name").fill("Mika")
        form.get_by_label("Your pet").select_option(label=pet)
        form.get_by_role("button", name="Show me").click()
        expect(page.get_by_role("heading", name="Tell us about your pet")).to_have_count(0)
    shown = picks_on(block)
    assert {arm for _, arm, _ in shown} <= {"explore", "exploit"}, shown
    assert {block_name for _, _, block_name in shown} == {BLOCK}, shown
    assert clicked_arm in {arm for _, arm, _ in shown}, shown
    visitor = visitor_of(page)
    drain_jobs()  # the impressions the server queued when it served the block
    impressions = impressions_of(visitor, db_turn)
    # The block as last served (after the form, when there is one) is what the visitor sees.
    assert [(p["sku"], p["arm"], p["block"]) for p in impressions[-len(shown) :]] == shown

    position = max(i for i, (_, arm, _) in enumerate(shown) if arm == clicked_arm)
    sku, arm, _ = shown[position]
    card = block.locator("article.product-card").nth(position)
    name = card.locator(".card-title").inner_text()
    card.locator("a.product-card-link").click()
    page.wait_for_url(site(f"/products/{sku}/"))
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()

    assert stored_clicks(visitor, drain_jobs, db_turn) == [{"sku": sku, "arm": arm, "block": BLOCK}]
    served_before_click = [p for p in impressions if p["sku"] == sku and p["block"] == BLOCK]
    assert served_before_click[-1]["arm"] == arm

    # Reports → Recommendations, as the demo's editor sees it: the click counted for its arm.
    admin_page.get_by_role("button", name="Reports").click()
    admin_page.get_by_role("link", name="Recommendations").click()
    expect(admin_page.get_by_role("heading", level=1, name="Recommendations")).to_be_visible()
    cells = admin_page.locator(f'tr[data-block="{BLOCK}"][data-arm="{arm}"] td')
    # arm, impressions, clicks, click-through rate, purchases
    expect(cells.nth(0)).to_have_text("Explore" if arm == "explore" else "Exploit")
    with db_turn():
        served = Event.objects.filter(
            type=EventType.RECOMMENDATION_IMPRESSION, properties__block=BLOCK
        )
        served_with_arm, served_in_all = served.filter(properties__arm=arm).count(), served.count()
    assert served_with_arm >= 1
    expect(cells.nth(1)).to_have_text(str(served_with_arm))
    expect(cells.nth(2)).to_have_text("1")
    other = admin_page.locator(
        f'tr[data-block="{BLOCK}"][data-arm="{"exploit" if arm == "explore" else "explore"}"] td'
    )
    expect(other.nth(2)).to_have_text("0")
    total = admin_page.locator(f'tr[data-block="{BLOCK}"][data-arm="total"] td')
    expect(total.nth(1)).to_have_text(str(served_in_all))
    expect(total.nth(2)).to_have_text("1")


def test_a_recommendation_opened_in_a_new_tab_is_reported_too(site, new_page, drain_jobs, db_turn):
    """A middle click opens the product in a new tab (the browser fires `auxclick`, not `click`):
    the visitor followed the recommendation all the same, and the click is stored once."""
    page = new_page()
    page.goto(site("/"))
    page.get_by_role("button", name="Accept all").click()
    block = page.locator(f'section[data-recommendations="{BLOCK}"]')
    sku, arm, _ = picks_on(block)[0]
    visitor = visitor_of(page)
    with page.context.expect_page() as opened:
        block.locator("article.product-card a.product-card-link").first.click(button="middle")
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == site(f"/products/{sku}/")
    assert page.url == site("/")  # the home page stays where it was
    assert stored_clicks(visitor, drain_jobs, db_turn) == [{"sku": sku, "arm": arm, "block": BLOCK}]
