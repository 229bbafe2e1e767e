"""A Japanese editor creates a segment and an experiment with no English label on the way
(issue 18), in a real browser: the editor's Wagtail admin language is 日本語, every control is
found by its Japanese label, and each admin screen on the way (lists, forms with the rows the
editor added, the reach estimate as it changes, the messages after saving, the report) is read
for the project's English messages — the msgids of locale/ja — as tests/config/
test_japanese_admin.py reads the server's pages; here the page is read as the browser shows it,
with what its scripts added.

Run with `pytest tests/e2e/test_japanese_editor.py`; needs Debian's chromium (see
tests/e2e/conftest.py). Screenshots for docs/editor-guide.md: docs/screenshots/e2e-ja-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SEGMENT = "20代の猫好き"
CONDITION = {"$and": [{"traits.pet": {"$ini": ["cat"]}}, {"age": {"$gte": 20, "$lte": 29}}]}
EXPERIMENT = "春の会員登録バナー"
KEY = "spring-signup-banner"
SYNC_MS = 400  # Wagtail's title-to-slug sync applies 100 ms after the last change


class Screens:
    """Reads each admin screen the editor sees for English project messages."""

    def __init__(self, page: Page, db_turn) -> None:
        self.page = page
        self.db_turn = db_turn
        self.seen: list[str] = []
        self.english: dict[str, list[str]] = {}

    def read(self, name: str) -> None:
        from tests.config.test_japanese_admin import untranslated

        self.page.wait_for_load_state()
        expect(self.page.locator("html")).to_have_attribute("lang", "ja")
        html = self.page.content()
        with self.db_turn():
            found = untranslated(html)
        if found:
            self.english[name] = found
        self.seen.append(name)


def region(page: Page, name: str):
    """An inline panel's row ("ルール 1", "バリアント 2", "目標 1"), by its Japanese heading."""
    return page.get_by_role("region", name=name, exact=True)


def labelled(scope, label: str):
    """The control whose label is `label` (a required field's label ends with "*"; the regular
    expression meets the label's text as written, spaces around it included)."""
    return scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


@pytest.fixture
def japanese_editor(site, admin_page, db_turn):
    """The demo editor, whose admin language is 日本語 (Account → Preferences)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from wagtail.users.models import UserProfile

    with db_turn():
        user = get_user_model().objects.get(username=settings.DEMO_ADMIN_USERNAME)
        profile = UserProfile.get_for_user(user)
        profile.preferred_language = "ja"
        profile.save()
    admin_page.goto(site("/admin/"))
    return admin_page


def test_a_japanese_editor_creates_a_segment_and_an_experiment_with_no_english_label(
    site, japanese_editor, screenshot, db_turn
):
    from experiments.models import Experiment, ExperimentStatus
    from personalization.models import Segment
    from personalization.reach import reach_estimate

    page = japanese_editor
    screens = Screens(page, db_turn)
    screens.read("ダッシュボード")

    # The segment: Pet is Cat, and Age between 20 and 29, each rule typed by its attribute.
    page.get_by_role("button", name="パーソナライズ", exact=True).click()
    page.get_by_role("link", name="セグメント", exact=True).click()
    expect(page.get_by_role("heading", name="セグメント", exact=True)).to_be_visible()
    screens.read("セグメント一覧")
    page.get_by_role("link", name=re.compile(r"^セグメント\s*を追加$")).click()
    labelled(page, "名前").fill(SEGMENT)
    reach = page.locator(".segment-reach").get_by_role("status")
    add_rule = page.get_by_role("button", name="ルールを追加")

    add_rule.click()
    first = region(page, "ルール 1")
    labelled(first, "属性").select_option(label="ペット")
    operators = labelled(first, "演算子").locator("option").all_inner_texts()
    assert "次と等しい" in operators and "次より大きい" not in operators, operators
    expect(reach).to_have_text(re.compile(r"ペットの値を入力してください"))
    screens.read("ルール 1：値なし")
    labelled(first, "値").select_option(label="猫")
    with db_turn():
        cats = reach_estimate(condition=CONDITION["$and"][0])
    expect(reach).to_have_text(re.compile(rf"会員 {cats.members} 人"))

    add_rule.click()
    second = region(page, "ルール 2")
    labelled(second, "属性").select_option(label="年齢")
    labelled(second, "演算子").select_option(label="次の範囲内")
    second.get_by_label("から", exact=True).fill("20")
    expect(reach).to_have_text(re.compile(r"^ルール 2: 「20」は範囲ではありません"))
    screens.read("ルール 2：範囲の途中")
    second.get_by_label("まで", exact=True).fill("29")
    with db_turn():
        both = reach_estimate(condition=CONDITION)
    expect(reach).to_have_text(re.compile(rf"会員 {both.members} 人"))
    screens.read("セグメントの作成")
    page.locator(".segment-reach").evaluate("el => el.scrollIntoView({block: 'center'})")
    screenshot(page, "e2e-ja-segment-builder")

    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("link", name=SEGMENT, exact=True)).to_be_visible()
    screens.read("セグメントの保存後")
    with db_turn():
        segment = Segment.objects.get(name=SEGMENT)
        assert segment.condition == CONDITION

    # The experiment: two variants (50 % each) and a primary goal, a sign-up event.
    page.get_by_role("button", name="実験", exact=True).click()
    page.get_by_role("link", name="実験", exact=True).click()
    expect(page.get_by_role("heading", name="実験", exact=True)).to_be_visible()
    screens.read("実験一覧")
    page.get_by_role("link", name=re.compile(r"^実験\s*を追加$")).click()
    labelled(page, "名前").fill(EXPERIMENT)
    labelled(page, "名前").press("Tab")
    # The name fills in the key (Wagtail's sync, 100 ms after the name changes): from a
    # Japanese name nothing, not a Unicode key the field refuses; the editor types one.
    page.wait_for_timeout(SYNC_MS)
    key = labelled(page, "キー")
    expect(key).to_have_value("")
    key.fill(KEY)
    add_variant = page.get_by_role("button", name="バリアントを追加")
    for number, name in ((1, "control"), (2, "b")):
        add_variant.click()
        variant = region(page, f"バリアント {number}")
        labelled(variant, "名前").fill(name)
        labelled(variant, "ウェイト（%）").fill("50")
    page.get_by_role("button", name="目標を追加").click()
    goal = region(page, "目標 1")
    labelled(goal, "名前").fill("会員登録")
    labelled(goal, "主要目標").check()
    labelled(goal, "種類").select_option(label="イベントが発生する")
    labelled(goal, "イベントの種類").select_option(label="会員登録")
    page.get_by_label(SEGMENT, exact=True).check()  # who takes part: the new segment
    screens.read("実験の作成")
    region(page, "バリアント 1").scroll_into_view_if_needed()
    screenshot(page, "e2e-ja-experiment")

    page.get_by_role("button", name="保存", exact=True).click()
    listing = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=EXPERIMENT, exact=True)
    )
    expect(listing).to_be_visible()
    screens.read("実験の保存後")
    with db_turn():
        experiment = Experiment.objects.get(key=KEY)
        assert experiment.status == ExperimentStatus.DRAFT
        assert [(v.name, v.weight) for v in experiment.variants.order_by("sort_order")] == [
            ("control", 0.5),
            ("b", 0.5),
        ]
        assert list(experiment.target_segments.values_list("name", flat=True)) == [SEGMENT]
    page.goto(site(f"/admin/experiments/report/{experiment.pk}/"))
    screens.read("実験レポート")

    assert len(screens.seen) == 10
    assert screens.english == {}, "English project messages on the way"
