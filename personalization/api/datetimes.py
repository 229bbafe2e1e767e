"""The one form of every timestamp the API writes: ISO 8601 with the site's offset
("2025-03-02T07:24:00+09:00"). DRF's DateTimeField follows whatever time zone is active and turns
UTC into "Z", and a hand-built `isoformat()` keeps the database's UTC ("+00:00"); report dicts
call `api_datetime` and serializers use `SiteDateTimeField`, so every field agrees."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def api_datetime(moment: datetime.datetime | None) -> str | None:
    """`moment` (an aware time) in the site's time zone as ISO 8601; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat()
