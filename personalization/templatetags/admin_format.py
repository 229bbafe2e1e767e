"""`{{ value|admin_datetime }}`: the one way the project's admin views show a date and time.

Every timestamp is turned into the admin's active time zone with `localtime` — the site's
(settings.TIME_ZONE), unless an editor chose their own in Wagtail's account settings, as for
Wagtail's own listings — and written in one translatable format, so a segment counted at 07:24
never also reads 22:24 (UTC) or "2025-03-02 07:24:00" on the next page."""

from __future__ import annotations

import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import pgettext

register = template.Library()


def admin_datetime_format() -> str:
    """The admin's date-time format in the active language (a Django date-format string)."""
    # Translators: a Django date format (https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date),
    # e.g. "Y年n月j日 H:i" in Japanese.
    return pgettext("admin date-time format", "j M Y, H:i")


@register.filter(name="admin_datetime")
def admin_datetime(value: datetime.datetime | str | None) -> str:
    """An aware time (or its ISO 8601 string) in the admin's time zone and format; "" for none."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return formats.date_format(timezone.localtime(value), admin_datetime_format())
