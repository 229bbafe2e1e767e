"""Building a segment with typed rows and seeing the reach estimate (issue 18), in a real
browser: each attribute offers only its operators, a choice is picked from its values, a range
is two numbers, the estimate follows the rules as they change (and says what a half-typed rule
lacks), and the list reads the saved rules as one sentence.

Run with `pytest tests/e2e/test_segment_builder.py`; needs Debian's chromium (see
tests/e2e/conftest.py). Screenshots for docs/editor-guide.md: docs/screenshots/e2e-segment-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SEGMENT = "Cat people in their twenties"
CONDITION = {"$and": [{"traits.pet": {"$ini": ["cat"]}}, {"age": {"$gte": 20, "$lte": 29}}]}
SUMMARY = "Pet is Cat and Age is between 20 and 29"


def rule(page: Page, number: int):
    return page.get_by_role("region", name=f"Rule {number}", exact=True)


def operator_labels(row) -> list[str]:
    return row.get_by_label("Operator").locator("option").all_inner_texts()


def test_building_a_segment_with_typed_rows_and_seeing_the_reach_estimate(
    site, admin_page, screenshot, db_turn
):
    from personalization.models import Segment, Visitor
    from personalization.reach import reach_estimate
    from personalization.services import segment_size_compute
    from tests.factories import MemberFactory

    with db_turn():
        for number in range(3):  # members this segment is for: a cat, aged 25
            MemberFactory(username=f"cat{number}@example.com", profile__pet_type="cat")
        Visitor.objects.create(traits={"pet": "Cat"})  # no visit yet: not a recent visitor
    page = admin_page
    page.get_by_role("button", name="Personalization").click()
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="Add segment").click()
    page.get_by_label("Name").fill(SEGMENT)
    add_rule = page.get_by_role("button", name="Add rule")
    reach = page.locator(".segment-reach").get_by_role("status")

    # Rule 1: Pet, a choice: only the comparisons that fit, and its values in a dropdown.
    add_rule.click()
    first = rule(page, 1)
    first.get_by_label("Attribute").select_option(label="Pet")
    assert operator_labels(first) == [
        "is",
        "is not",
        "is one of",
        "is none of",
        "is known",
        "is not known",
    ]
    expect(reach).to_have_text(re.compile(r"Give a value for Pet"))
    first.get_by_label("Value").select_option(label="Cat")
    with db_turn():
        cats = reach_estimate(condition=CONDITION["$and"][0])
    expect(reach).to_have_text(re.compile(rf"^{cats.members} members and "))

    # Rule 2: Age, a number: "is between" is two number inputs; half typed, the estimate says
    # what is missing instead of failing.
    add_rule.click()
    second = rule(page, 2)
    second.get_by_label("Attribute").select_option(label="Age")
    assert "is more than" in operator_labels(second) and "contains" not in operator_labels(second)
    second.get_by_label("Operator").select_option(label="is between")
    second.get_by_label("From", exact=True).fill("20")
    expect(reach).to_have_text(re.compile(r"^Rule 2: “20” is not a range"))
    second.get_by_label("To", exact=True).fill("29")
    with db_turn():
        both = reach_estimate(condition=CONDITION)
    assert both.members >= 3
    expect(reach).to_have_text(re.compile(rf"^{both.members} members and {both.visitors} visitor"))
    page.locator(".segment-reach").evaluate("el => el.scrollIntoView({block: 'center'})")
    expect(page.locator(".segment-reach")).to_be_in_viewport(ratio=1)
    screenshot(page, "e2e-segment-builder")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"Segment '{SEGMENT}' created.")).to_be_visible()
    with db_turn():
        segment = Segment.objects.get(name=SEGMENT)
        assert segment.condition == CONDITION
        assert [(r.attribute, r.operator, r.value) for r in segment.rules.all()] == [
            ("traits.pet", "eq", "cat"),
            ("age", "between", "20-29"),
        ]
        segment_size_compute(segment_id=segment.pk)
    page.reload()
    listing = page.get_by_role("row").filter(has=page.get_by_role("link", name=SEGMENT, exact=True))
    expect(listing).to_contain_text(SUMMARY)
    expect(listing).to_contain_text("Enabled")
    expect(listing).to_contain_text(re.compile(rf"{both.members} \({both.members} members\) · \d"))
    listing.scroll_into_view_if_needed()
    screenshot(page, "e2e-segment-list")
