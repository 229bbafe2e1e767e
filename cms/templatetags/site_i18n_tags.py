"""The site's languages in its templates: the language switcher, the `hreflang` links, and
amounts of yen written as each language writes them (`|yen`).

`{% site_languages as languages %}` gives, for each content language, where the current page is
read in it: the page's own live translation when there is one (`translated`), otherwise that
language's home page (or, for a page that is not a Wagtail page — log-in, profile — the same
address in that language). Switcher links and `<link rel="alternate" hreflang>` are built from
it; `hreflang` names only real translations.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils import translation
from django.utils.formats import number_format
from wagtail.models import Locale, Page, Site

register = template.Library()


@dataclass(frozen=True)
class SiteLanguage:
    code: str
    name: str
    url: str
    absolute_url: str
    current: bool
    translated: bool  # the same page (or view) in this language, not its home page


def _language_home(request, code: str) -> str:
    site = Site.find_for_request(request)
    if site is None:
        return "/"
    home = site.root_page.get_translation_or_none(Locale.objects.filter(language_code=code).first())
    home = home if home is not None and home.live else site.root_page
    return home.get_url(request=request) or "/"


def page_languages(request, page: Page | None) -> list[SiteLanguage]:
    current = translation.get_language() or settings.LANGUAGE_CODE
    if page is not None and getattr(page, "pk", None):
        versions = {page.locale.language_code: page}
        for other in page.get_translations().live().select_related("locale"):
            versions[other.locale.language_code] = other
    else:
        versions = None
    languages = []
    for code, name in settings.WAGTAIL_CONTENT_LANGUAGES:
        if versions is None:
            url, translated = translate_url(request.get_full_path(), code), True
        elif code in versions:
            url, translated = versions[code].get_url(request=request) or "/", True
        else:
            url, translated = _language_home(request, code), False
        absolute = request.build_absolute_uri(url)
        languages.append(SiteLanguage(code, name, url, absolute, code == current, translated))
    return languages


@register.filter
def yen(amount) -> str:
    """An amount of yen as the active language writes it: ¥1,200 in English, 1,200円 in
    Japanese (whole yen, grouped by thousands). Not a number: shown as it is."""
    try:
        value = Decimal(str(amount)).quantize(Decimal(1))
    except (InvalidOperation, ValueError, TypeError):
        return str(amount)
    number = number_format(abs(value), decimal_pos=0, use_l10n=True, force_grouping=True)
    sign = "-" if value < 0 else ""
    if (translation.get_language() or "").startswith("ja"):
        return f"{sign}{number}円"
    return f"{sign}¥{number}"


@register.simple_tag(takes_context=True)
def site_languages(context) -> list[SiteLanguage]:
    request = context.get("request")
    if request is None:
        return []
    return page_languages(request, context.get("page"))
