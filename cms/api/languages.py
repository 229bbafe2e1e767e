"""The language an API caller reads pages in: `?locale=ja`, else the `Accept-Language` header,
else none asked (the page as it is, in the site's default language).

A page asked in a language is served as its live translation in that language (Wagtail i18n:
the Japanese page of the English one, and back); a page without one is served as it is. The
body is resolved with that language active, so the render cache's key (which includes the
language) never lets two languages share an entry."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation.trans_real import get_language_from_path, parse_accept_lang_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from wagtail.models import Locale, Page

HEADER = "Accept-Language"
LOCALE_PARAMETER = OpenApiParameter(
    "locale",
    OpenApiTypes.STR,
    enum=[code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES],
    description="The language to read the page in (its translation, when it has one). Or send "
    "Accept-Language; without either, the page as it is.",
)


def content_languages() -> list[str]:
    return [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]


LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*", re.IGNORECASE)


def _supported(value: str) -> str | None:
    """`ja`, `ja-JP`, `EN-us` → the content language they name, or None."""
    value = value.strip().lower()
    if len(value) > 35 or not LANGUAGE_TAG.fullmatch(value):
        return None
    languages = content_languages()
    if value in languages:
        return value
    base = value.split("-")[0].split("_")[0]
    return base if base in languages else None


def requested_language(request, path_language: str | None = None) -> str | None:
    """The language `request` asks for: `?locale=` first, then the language of the site path it
    asks for (`path_language`: /ja/… is Japanese), then Accept-Language; or None. An unknown
    `?locale=` is a 400 naming the languages there are."""
    value = request.GET.get("locale")
    if value is None and path_language is not None:
        return path_language
    if value is not None:
        language = _supported(value)
        if language is None:
            raise ValidationError(
                {
                    "locale": [
                        gettext("Unknown locale: use one of %(languages)s.")
                        % {"languages": ", ".join(content_languages())}
                    ]
                }
            )
        return language
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    if len(header) > 512:  # Django's own limit for this header
        return None
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        language = _supported(code)
        if language is not None:
            return language
    return None


def split_language_prefix(path: str) -> tuple[str | None, str]:
    """`/ja/dogs/` → ("ja", "/dogs/"): a site path with its language prefix taken off."""
    language = get_language_from_path(path)
    if language is None or language not in content_languages():
        return None, path
    return language, path[len(language) + 1 :] or "/"


def translated(page: Page, language: str | None) -> Page:
    """The live translation of `page` in `language`, or `page` itself (none asked, or none)."""
    if language is None or page.locale.language_code == language:
        return page
    locale = Locale.objects.filter(language_code=language).first()
    if locale is None:
        return page
    translation = page.get_translation_or_none(locale)
    return translation if translation is not None and translation.live else page
