"""The site in Japanese and English: Wagtail's i18n with English unprefixed and Japanese under
/ja/, a language switcher and hreflang links, Japanese prefectures, yen and dates, and the
demo's Japanese pages built from the English ones."""

from __future__ import annotations

import importlib
import io
import re

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from wagtail.models import Locale, Page

from cms.demo import DEMO_PAGES, ensure_home, ensure_japanese_site
from cms.models import ContentPage, HomePage, SectionPage

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def alternates(body: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', body))


def switcher(body: str) -> dict[str, str]:
    block = re.search(r'<ul class="language-switcher".*?</ul>', body, re.S).group(0)
    return dict(re.findall(r'<a href="([^"]+)" hreflang="([^"]+)"', block))


def test_both_locales_exist():
    """Made by migration cms.0009 (and again by `load_demo` in a database emptied since)."""
    assert set(Locale.objects.values_list("language_code", flat=True)) >= {"en", "ja"}


def test_the_locale_migration_adds_japanese_and_keeps_what_is_there():
    from django.apps import apps

    add_locales = importlib.import_module("cms.migrations.0009_site_locales").add_locales
    Locale.objects.filter(language_code="ja").delete()
    english = Locale.objects.get(language_code="en")
    pages = list(Page.objects.filter(locale=english).values_list("pk", flat=True))
    add_locales(apps, None)
    add_locales(apps, None)  # again: nothing more
    assert Locale.objects.get(language_code="en").pk == english.pk
    assert Locale.objects.filter(language_code="ja").count() == 1
    assert list(Page.objects.filter(locale=english).values_list("pk", flat=True)) == pages


def test_the_japanese_home_page_is_under_ja_in_japanese(client, japanese_site):
    body = html(client.get("/ja/"))
    assert '<html lang="ja">' in body
    assert "うちの子が喜ぶものを、あなたに合わせて" in body  # the hero
    assert "入会金・年会費無料のクラブです" in body  # the personalized block's default
    nav = re.search(r'<nav class="site-nav".*?</ul>', body, re.S).group(0)
    assert '<a href="/ja/dogs/">わんちゃん</a>' in nav
    assert '<a href="/ja/cats/">ねこちゃん</a>' in nav
    english = html(client.get("/"))
    assert '<html lang="en">' in english and "うちの子" not in english


def test_hreflang_and_the_switcher_link_a_page_to_its_translation(client, japanese_site):
    body = html(client.get("/cats/litter-that-works/"))
    assert alternates(body) == {
        "en": "http://testserver/cats/litter-that-works/",
        "x-default": "http://testserver/cats/litter-that-works/",
        "ja": "http://testserver/ja/cats/litter-that-works/",
    }
    assert switcher(body) == {"/cats/litter-that-works/": "en", "/ja/cats/litter-that-works/": "ja"}
    japanese = html(client.get("/ja/cats/litter-that-works/"))
    assert "<h1>失敗しない猫砂選び</h1>" in japanese
    assert alternates(japanese)["en"] == "http://testserver/cats/litter-that-works/"
    assert 'hreflang="ja" lang="ja" aria-current="true">日本語</a>' in japanese


def test_a_page_not_translated_yet_switches_to_the_other_home_page(client, japanese_site):
    cats = SectionPage.objects.get(slug="cats", locale__language_code="en")
    page = ContentPage(title="English only", slug="english-only", intro="Not in Japanese yet.")
    cats.add_child(instance=page)
    page.save_revision().publish()
    body = html(client.get("/cats/english-only/"))
    assert switcher(body)["/ja/"] == "ja"
    assert set(alternates(body)) == {"en", "x-default"}  # hreflang names real translations only


def test_a_members_only_japanese_page_sends_to_the_japanese_log_in(client, japanese_site):
    response = client.get("/ja/members/")
    assert response.status_code == 302
    assert response["Location"] == "/ja/account/login/?next=/ja/members/"


def test_prefectures_are_in_japanese_on_the_japanese_site(member_client):
    japanese = html(member_client.get("/ja/account/profile/"))
    assert '<html lang="ja">' in japanese
    assert ">東京都</option>" in japanese and ">北海道</option>" in japanese
    assert ">Tokyo</option>" not in japanese
    assert ">Tokyo</option>" in html(member_client.get("/account/profile/"))


def test_dates_are_written_the_japanese_way(client, japanese_site):
    page = ContentPage.objects.get(slug="litter-that-works", locale__language_code="ja")
    published = page.last_published_at
    with translation.override("ja"):
        from django.utils import timezone

        local = timezone.localtime(published)
    expected = f"{local.year}年{local.month}月{local.day}日更新"
    assert expected in html(client.get("/ja/cats/litter-that-works/"))
    assert "Updated " in html(client.get("/cats/litter-that-works/"))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "¥1,200 · ¥3,000,000"), ("ja", "1,200円 · 3,000,000円")],
)
def test_yen_as_each_language_writes_it(language, expected):
    template = Template("{% load site_i18n_tags %}{{ 1200|yen }} · {{ '3000000'|yen }}")
    with translation.override(language):
        assert template.render(Context()) == expected


def test_load_demo_builds_every_translated_demo_page_once_and_keeps_editors_changes():
    run = lambda: call_command(  # noqa: E731
        "load_demo", "--no-progress", "--languages", "en,ja", stdout=io.StringIO()
    )
    run()
    ja = Locale.objects.get(language_code="ja")
    translated = [spec for spec in DEMO_PAGES if spec.ja is not None]
    assert Page.objects.filter(locale=ja).count() == len(translated) + 1  # and the home page
    for spec in translated:
        page = Page.objects.get(locale=ja, slug=spec.slug, depth=3 if not spec.parent else 4)
        assert page.live and page.title == spec.ja.title
    home = HomePage.objects.get(locale=ja)
    assert home.translation_key == HomePage.objects.get(locale__language_code="en").translation_key
    page = ContentPage.objects.get(locale=ja, slug="litter-that-works")
    page.title = "猫砂の選び方（編集済み）"
    page.save_revision().publish()
    count = Page.objects.count()
    run()
    assert Page.objects.count() == count
    assert ContentPage.objects.get(pk=page.pk).title == "猫砂の選び方（編集済み）"


def test_an_editor_translates_a_page_with_the_admins_translate_action(admin_client):
    page = ContentPage.objects.get(slug="puppy-starter-kit", locale__language_code="en")
    japanese_site = ensure_japanese_site(ensure_home())
    dogs = japanese_site.get_children().get(slug="dogs")
    dogs.get_children().filter(slug="puppy-starter-kit").delete()  # not translated yet
    url = reverse("simple_translation:submit_page_translation", args=[page.pk])
    listing = admin_client.get(f"/admin/pages/{page.get_parent().pk}/")
    assert url in listing.content.decode()  # the page's "Translate" action
    form = admin_client.get(url)
    assert form.status_code == 200
    ja = Locale.objects.get(language_code="ja")
    response = admin_client.post(url, {"locales": [ja.pk]})
    assert response.status_code == 302
    translation = page.get_translation(ja)
    assert translation.get_parent().pk == dogs.pk
    assert not translation.live  # a draft with the English text, for the editor to write
    assert translation.title == page.title
