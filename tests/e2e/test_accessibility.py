"""Accessibility of the member site (issue 18): axe-core, run in a real browser on the home,
section, article, sign-up, privacy-choices and profile pages, in English and in Japanese, finds
no violation of impact "serious" or "critical".

axe-core is vendored (tests/e2e/vendor/axe.min.js, see README.md there: version and licence) and
injected into each page as it is shown: the test needs nothing from the network. Japanese pages
are the demo's Japanese translations under /ja/ (sign-up, privacy and profile included).
Anonymous pages are checked as a first-time visitor sees them, with the cookie banner; the
profile page (and the home page once more) as a logged-in demo member.

Run with `pytest tests/e2e/test_accessibility.py`; needs Debian's chromium (see
tests/e2e/conftest.py). Lighthouse's scores for the home page: bench/lighthouse.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORT

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# Each language's addresses: English unprefixed (the default language), Japanese under /ja/.
PREFIX = {"en": "", "ja": "/ja"}
ANONYMOUS_PAGES = {
    "home": "/",
    "section": "/dogs/",
    "article": "/dogs/choosing-dog-food/",
    "sign-up": "/account/signup/",
    "privacy": "/personalization/consent/",
}
PHONE = {"width": 390, "height": 844}
MEMBER_PAGES = {"profile": "/account/profile/", "home (member)": "/"}


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as shown now (all of WCAG 2.x A/AA and best practice)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ['violations']});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary),
            }));
        }"""
    )


def blocking(violations: list[dict]) -> list[str]:
    return [
        f"{v['impact']} {v['id']} ({v['help']}): " + " | ".join(v["nodes"][:5])
        for v in violations
        if v["impact"] in BLOCKING
    ]


def check(page: Page, url: str, language: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{language}\b"))
    return [f"{url}: {problem}" for problem in blocking(axe_violations(page))]


def log_in_member(page: Page, site) -> None:
    from cms.demo.members import DEMO_MEMBER_PASSWORD, DEMO_MEMBERS

    page.goto(site("/account/login/"))
    page.get_by_label("Email address").fill(DEMO_MEMBERS[0]["email"])
    page.get_by_label("Password").fill(DEMO_MEMBER_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_no_serious_or_critical_axe_violation_on_the_site(site, new_page, db_turn, language):
    if language == "ja":
        from cms.demo import ensure_home, ensure_japanese_site

        with db_turn():  # the tests' demo is English; `load_demo` adds this for `make run`
            ensure_japanese_site(ensure_home())
    prefix = PREFIX[language]
    visitor = new_page()
    problems = []
    for name, path in ANONYMOUS_PAGES.items():
        problems += check(visitor, site(prefix + path), language)
        if name == "home":  # a first visit: the cookie banner is checked with the page
            expect(visitor.locator(".consent-banner")).to_be_visible()
            visitor.set_viewport_size(PHONE)  # and the home page as a phone shows it
            problems += [f"{path} on a phone: {p}" for p in blocking(axe_violations(visitor))]
            visitor.set_viewport_size(VIEWPORT)

    member = new_page()
    log_in_member(member, site)
    for path in MEMBER_PAGES.values():
        problems += check(member, site(prefix + path), language)
    assert problems == []


def test_axe_reports_a_serious_violation(site, new_page):
    """The injected axe finds what it should: text too pale to read is a serious violation."""
    page = new_page()
    page.goto(site("/"))
    page.evaluate(
        "() => { const p = document.createElement('p'); p.id = 'pale'; p.textContent = 'Pale';"
        " p.style.color = '#eeeeee'; p.style.background = '#ffffff';"
        " document.querySelector('main').prepend(p); }"
    )
    problems = blocking(axe_violations(page))
    assert any(
        problem.startswith("serious color-contrast") and "#pale" in problem for problem in problems
    )
