"""A/B blocks in a real browser (issue 16 §1): the editor picks each variant from a select
filled from the chosen experiment (it follows when another experiment is chosen), a slip is
refused on publish with a message on the block, and starting an experiment that a live page
disagrees with is refused with a message naming the page and the missing variant.

Run with `pytest tests/e2e`; needs Debian's chromium (see tests/e2e/conftest.py). Screenshots
for docs/editor-guide.md: docs/screenshots/e2e-ab-*.png.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAGE_SLUG = "choosing-dog-food"
SPRING_SALE = "Spring Sale (spring-sale)"
HOME_HERO = "Home hero headline (home-hero)"
TIMEOUT_S = 15
ENTRIES = '[data-contentpath="variants"] > div > [data-streamfield-list-container]'


def variant_options(select):
    return select.locator("option")


def entry(block, index: int):
    """The `index`-th entry (variant and content) of an A/B block."""
    return block.locator(f"{ENTRIES} > [data-streamfield-child]").nth(index)


def add_entry(block) -> None:
    """Add an entry at the end of the block's list of variants."""
    block.locator(f"{ENTRIES} > button[data-streamfield-list-add]").last.click()


def scroll_to(locator) -> None:
    """Scroll `locator` to the top of the editor, below Wagtail's sticky header."""
    locator.evaluate(
        "el => { el.scrollIntoView({block: 'start'}); "
        "const box = el.closest('main, .content-wrapper, body'); if (box) box.scrollBy(0, -80); "
        "window.scrollBy(0, -80); }"
    )


def add_heading(page: Page, entry, text: str) -> None:
    """Insert a Heading block into an A/B entry's content and type its text."""
    content = entry.locator('[data-contentpath="content"]')
    content.get_by_role("button", name="Insert a block").first.click()
    page.get_by_role("option", name="Heading", exact=True).click()
    content.get_by_label(re.compile(r"^Text")).fill(text)


def publish(page: Page) -> None:
    """More actions → Publish, and wait for the editor's answer (a new page). When Wagtail's
    autosave saved a revision meanwhile (it saves the editor's changes as they type), it may
    first ask before publishing over it: publish anyway, as the editor would (they are their
    own changes)."""
    page.evaluate("() => { window.beforePublishing = true; }")
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    conflict = page.get_by_role("dialog").filter(has_text="You saved a new version")
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if conflict.is_visible():
            conflict.get_by_role("button", name="Publish", exact=True).click()
        try:
            if page.evaluate("() => window.beforePublishing !== true"):
                page.wait_for_load_state()
                return
        except PlaywrightError:  # the page is navigating
            pass
        page.wait_for_timeout(100)
    raise AssertionError("publishing did not answer with a new page")


def test_editor_picks_each_variant_from_the_experiments_own_list(
    site, admin_page, screenshot, db_turn
):
    from cms.models import ContentPage
    from experiments.models import ExperimentUsage
    from tests.experiments.variant_helpers import make_experiment

    with db_turn():
        make_experiment("spring-sale", ["control", "discount"])
        target = ContentPage.objects.get(slug=PAGE_SLUG)

    page = admin_page
    page.goto(site(f"/admin/pages/{target.pk}/edit/"))
    body = page.get_by_role("region", name="Body", exact=True)
    body.get_by_role("button", name="Insert a block").first.click()
    page.get_by_role("option", name="A/B test", exact=True).click()
    block = body.get_by_role("region", name=re.compile(r"^A\/B test"))
    selects = block.locator("select[data-variant-select]")
    expect(selects).to_have_count(1)
    expect(variant_options(selects.nth(0))).to_have_text(["Choose the experiment first"])

    # Choosing the experiment fills the entry's select with that experiment's variants.
    experiment = block.get_by_label(re.compile(r"^Experiment"))
    experiment.select_option(label=HOME_HERO)
    expect(variant_options(selects.nth(0))).to_have_text(
        ["Choose a variant", "control (the control)", "member-benefits"]
    )
    experiment.select_option(label=SPRING_SALE)  # the options follow the chosen experiment
    expect(variant_options(selects.nth(0))).to_have_text(
        ["Choose a variant", "control (the control)", "discount"]
    )
    expect(selects.nth(0)).to_have_value("control")  # a new entry takes the next free variant
    add_entry(block)
    expect(selects).to_have_count(2)
    expect(selects.nth(1)).to_have_value("discount")
    expect(variant_options(selects.nth(1))).to_have_text(
        ["Choose a variant", "control (the control)", "discount"]
    )
    add_heading(page, entry(block, 0), "Plain prices all spring")
    add_heading(page, entry(block, 1), "Ten per cent off all spring")
    scroll_to(entry(block, 1))
    selects.nth(1).click()  # the select open: the experiment's own variants
    screenshot(page, "e2e-ab-variant-select")
    page.keyboard.press("Escape")

    # A slip: the control picked twice. Publishing is refused, on the block.
    selects.nth(1).select_option("control")
    publish(page)
    expect(page.get_by_text(re.compile(r"could not be (saved|published)")).first).to_be_visible()
    block = page.get_by_role("region", name="Body", exact=True).get_by_role(
        "region", name=re.compile(r"^A\/B test")
    )
    expect(
        block.get_by_text(
            "The variants must be exactly the experiment's own: missing: discount; "
            "listed more than once: control."
        )
    ).to_be_visible()
    expect(block.get_by_text("This variant is already listed above.")).to_be_visible()
    selects = block.locator("select[data-variant-select]")
    expect(selects.nth(1)).to_have_attribute("data-variants-for", "spring-sale")  # loaded
    expect(selects.nth(1)).to_have_value("control")  # the editor's choices are kept
    scroll_to(block)
    screenshot(page, "e2e-ab-variant-refused")

    # Picked from the select this time.
    selects.nth(1).select_option("discount")
    expect(selects.nth(1)).to_have_value("discount")
    publish(page)
    expect(page.get_by_text(re.compile(r"has been published"))).to_be_visible()

    with db_turn():
        target.refresh_from_db()
        stored = target.body.raw_data[0]["value"]
        usage = ExperimentUsage.objects.get(revision_id=target.live_revision_id)
    assert [item["value"]["variant"] for item in stored["variants"]] == ["control", "discount"]
    assert (usage.experiment_key, usage.variant_keys) == ("spring-sale", ["control", "discount"])


def test_start_is_refused_while_a_live_page_lacks_a_variant(site, admin_page, screenshot, db_turn):
    from cms.models import ContentPage
    from experiments.models import ExperimentStatus, Variant
    from tests.experiments.variant_helpers import ab_block, make_experiment, publish_body

    with db_turn():
        target = ContentPage.objects.get(slug=PAGE_SLUG)
        # The page was published with two variants; a third was added to the experiment since.
        experiment = make_experiment("spring-sale", ["control", "discount"])
        publish_body(target, [ab_block("spring-sale", ["control", "discount"])])
        Variant.objects.create(experiment=experiment, name="free-gift", weight=0.2, sort_order=2)
        Variant.objects.filter(experiment=experiment, name="discount").update(weight=0.3)

    page = admin_page
    page.goto(site(f"/admin/experiments/report/{experiment.pk}/"))
    page.get_by_role("button", name="Start", exact=True).click()
    message = (
        f"“{target.title}” (live) disagrees with the experiment's variants: "
        "an A/B block: missing: free-gift."
    )
    expect(page.get_by_text(message, exact=False).first).to_be_visible()
    screenshot(page, "e2e-ab-start-refused")
    with db_turn():
        experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.DRAFT

    # The experiment's editor lists the page, linked, with what is wrong.
    page.goto(site(f"/admin/experiments/edit/{experiment.pk}/"))
    row = page.locator(f'.pages-using tr[data-page="{target.pk}"]')
    expect(row.get_by_role("link", name=target.title)).to_have_attribute(
        "href", f"/admin/pages/{target.pk}/edit/"
    )
    expect(row).to_contain_text("Live")
    expect(row).to_contain_text("Live: an A/B block: missing: free-gift")
    panel = page.locator("section.w-panel").filter(has=page.locator(".pages-using")).last
    screenshot(panel, "e2e-ab-pages-using")
