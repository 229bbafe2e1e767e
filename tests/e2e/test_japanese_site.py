"""A Japanese visitor's personalized home page, in a real browser (issue 18, "the site in
Japanese"): from the English home page the language switcher leads to /ja/, the visitor answers
the two questions in Japanese and is greeted by name with their pet, and the dog people's
message in Japanese replaces the default one. Screenshot for the docs:
docs/screenshots/e2e-ja-home-personalized.png.

Run with `pytest tests/e2e`; see tests/e2e/conftest.py for the browser and the live server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_japanese_visitor_gets_their_personalized_home_page(site, new_page, screenshot, db_turn):
    from cms.demo import ensure_home, ensure_japanese_site

    with db_turn():
        ensure_japanese_site(ensure_home())  # what `load_demo` builds for `make run`
    page = new_page()
    page.goto(site("/"))
    page.locator(".language-switcher").get_by_role("link", name="日本語").click()
    expect(page).to_have_url(re.compile(r"/ja/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    banner = page.get_by_role("complementary", name=re.compile("Cookie|クッキー|同意"))
    if banner.count():
        banner.get_by_role("button", name="すべて許可").click()
        page.wait_for_load_state()
    expect(page.get_by_role("heading", name="入会金・年会費無料のクラブです")).to_be_visible()
    expect(page.locator("section.greeting")).to_contain_text("Pawprint Clubへようこそ")

    form = page.locator("section.profile-form")
    expect(form.get_by_role("heading", name="うちの子のことを教えてください")).to_be_visible()
    form.get_by_label("お名前").fill("はなこ")
    form.get_by_label("飼っているペット").select_option(label="犬")
    form.get_by_role("button", name="おすすめを見る").click()

    expect(page).to_have_url(re.compile(r"/ja/$"))
    greeting = page.locator("section.greeting")
    expect(greeting).to_contain_text("はなこ")
    expect(greeting).to_have_class(re.compile(r"\bgreeting-dog\b"))
    expect(page.get_by_role("heading", name="わんちゃんのためのおすすめ")).to_be_visible()
    expect(page.get_by_role("heading", name="入会金・年会費無料のクラブです")).to_have_count(0)
    expect(page.get_by_role("heading", name="うちの子のことを教えてください")).to_have_count(0)
    expect(page.get_by_role("heading", name="Something for your dog")).to_have_count(0)
    nav = page.get_by_role("navigation", name="メイン")
    expect(nav.get_by_role("link", name="わんちゃん")).to_have_attribute("href", "/ja/dogs/")
    screenshot(page, "e2e-ja-home-personalized")

    # The same visitor on the English site: the same segment, its English message.
    page.locator(".language-switcher").get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Something for your dog")).to_be_visible()
