"""Wagtail's own root page, locale and collection, which every demo page and picture needs."""

from __future__ import annotations

from django.conf import settings
from wagtail.models import Collection, Locale, Page


def ensure_wagtail_root() -> Page:
    """Wagtail's root page, locales and collection, recreated if the database was flushed."""
    for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES:  # as migration cms.0009 makes them
        Locale.objects.get_or_create(language_code=code)
    root = Page.get_first_root_node()
    if root is not None:
        return root
    locale = Locale.objects.get(language_code=settings.LANGUAGE_CODE)
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    return Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
