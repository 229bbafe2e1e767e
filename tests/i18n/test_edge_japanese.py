"""At the edge (RENDER_CACHE_EDGE), a Japanese page keeps its language: /api/v1/decide/ keys it
as the site renders it, and its holes' includes (/_edge/hole/…, an unprefixed address) are
filled in Japanese."""

from __future__ import annotations

import pytest

from tests.cms.test_render_cache_edge import browser, decide, edge_fetch, esi_resolve, warm

pytestmark = pytest.mark.django_db

PATH = "/ja/"


@pytest.fixture(autouse=True)
def edge_mode(settings):
    settings.RENDER_CACHE_EDGE = True
    settings.RENDER_CACHE_EDGE_SECRET = "edge-test-secret"


def test_a_japanese_page_is_shared_at_the_edge_and_its_holes_are_filled_in_japanese(
    japanese_site,
):
    warm(PATH, pet="dog", name="Someone")
    aiko = browser(pet="dog", name="Aiko")
    decision = decide(aiko, PATH)
    assert decision["reason"] == "shared", decision
    shared = edge_fetch(aiko, decision["key"], PATH)
    assert shared.status_code == 200
    page = esi_resolve(aiko, shared.content.decode())
    assert "わんちゃんのためのおすすめ" in page  # the shared body
    greeting = page[page.index('class="greeting') :][:600]
    assert "Aiko" in greeting and "Hello" not in greeting and "Welcome" not in greeting
    assert "ログアウト" in page or "ログイン" in page  # the account links' include
    english = decide(browser(pet="dog", name="Ben"), "/")
    assert english["key"] != decision["key"]
