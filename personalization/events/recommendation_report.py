"""What each recommendations block produced: impressions, clicks and click-through rate per arm
(explore / exploit), and purchases of a recommended product within 7 days after a click on it
(by the same visitor, the product among the purchase's `skus`). SQL aggregates over the stored
events — never events loaded one by one — and a staff page under Reports in the admin."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.db.models.fields.json import KT
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from personalization.admin_header import admin_header
from personalization.events.models import Event, EventType

ATTRIBUTION_DAYS = 7
ARMS = ("exploit", "explore")
PERIODS = (7, 30, 90)


@dataclass
class ArmRow:
    arm: str
    impressions: int = 0
    clicks: int = 0
    purchases: int = 0

    @property
    def ctr(self) -> float | None:
        """Clicks per impression (0–1), None before any impression."""
        return self.clicks / self.impressions if self.impressions else None

    @property
    def ctr_percent(self) -> str:
        return "—" if self.ctr is None else f"{self.ctr * 100:.1f} %"


@dataclass
class BlockReport:
    block: str
    arms: dict[str, ArmRow] = field(default_factory=dict)

    def arm(self, name: str) -> ArmRow:
        return self.arms.setdefault(name, ArmRow(name))

    @property
    def total(self) -> ArmRow:
        row = ArmRow("total")
        for arm in self.arms.values():
            row.impressions += arm.impressions
            row.clicks += arm.clicks
            row.purchases += arm.purchases
        return row

    @property
    def rows(self) -> list[ArmRow]:
        return [self.arms.get(name) or ArmRow(name) for name in ARMS]


_PURCHASES_SQL = """
SELECT c.properties ->> 'block', c.properties ->> 'arm', count(*)
FROM {event} c
WHERE c.type = %(click)s AND c.occurred_at >= %(since)s AND c.occurred_at < %(until)s
  AND EXISTS (
    SELECT 1 FROM {event} p
    WHERE p.visitor_id = c.visitor_id AND p.type = %(purchase)s
      AND p.occurred_at > c.occurred_at
      AND p.occurred_at <= c.occurred_at + make_interval(days => %(days)s)
      AND jsonb_typeof(p.properties -> 'skus') = 'array'
      AND p.properties -> 'skus' ? (c.properties ->> 'sku'))
GROUP BY 1, 2
"""


def _purchases_after_clicks(since, until) -> list[tuple[str, str, int]]:
    """(block, arm, clicks followed by a purchase of the clicked SKU within 7 days)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _PURCHASES_SQL.format(event=connection.ops.quote_name(Event._meta.db_table)),
                {
                    "click": EventType.RECOMMENDATION_CLICK,
                    "purchase": EventType.PURCHASE,
                    "since": since,
                    "until": until,
                    "days": ATTRIBUTION_DAYS,
                },
            )
            return cursor.fetchall()
    counts: dict[tuple[str, str], int] = {}  # the embedded SQLite: the same, in Python
    clicks = Event.objects.filter(
        type=EventType.RECOMMENDATION_CLICK, occurred_at__gte=since, occurred_at__lt=until
    )
    for click in clicks.iterator():
        sku = click.properties.get("sku")
        window = click.occurred_at + datetime.timedelta(days=ATTRIBUTION_DAYS)
        purchases = Event.objects.filter(
            visitor_id=click.visitor_id,
            type=EventType.PURCHASE,
            occurred_at__gt=click.occurred_at,
            occurred_at__lte=window,
        ).values_list("properties", flat=True)
        if any(sku in (p.get("skus") or []) for p in purchases):
            key = (click.properties.get("block"), click.properties.get("arm"))
            counts[key] = counts.get(key, 0) + 1
    return [(block, arm, n) for (block, arm), n in counts.items()]


def recommendation_report(*, days: int = 30, now: datetime.datetime | None = None) -> list:
    """Per block (its report name), per arm: impressions, clicks, CTR and purchases attributed
    within 7 days after a click, for clicks and impressions of the last `days` days."""
    until = now or timezone.now()
    since = until - datetime.timedelta(days=days)
    counted = (
        Event.objects.filter(
            type__in=[EventType.RECOMMENDATION_IMPRESSION, EventType.RECOMMENDATION_CLICK],
            occurred_at__gte=since,
            occurred_at__lt=until,
        )
        .values("type", block=KT("properties__block"), arm=KT("properties__arm"))
        .annotate(n=Count("id"))
        .order_by()
    )
    blocks: dict[str, BlockReport] = {}
    for row in counted:
        name = row["block"] or "—"
        arm = blocks.setdefault(name, BlockReport(name)).arm(row["arm"] or "—")
        if row["type"] == EventType.RECOMMENDATION_IMPRESSION:
            arm.impressions += row["n"]
        else:
            arm.clicks += row["n"]
    for block, arm, n in _purchases_after_clicks(since, until):
        blocks.setdefault(block or "—", BlockReport(block or "—")).arm(arm or "—").purchases += n
    return [blocks[name] for name in sorted(blocks)]


def recommendations_report_view(request):
    """/admin/reports/recommendations/: the report for the last 7, 30 or 90 days (Wagtail's
    admin access is required for every admin URL; this page is for staff)."""
    if not request.user.is_staff:
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    context = {
        **admin_header(_("Recommendations"), icon="pick"),
        "blocks": recommendation_report(days=days),
        "days": days,
        "periods": PERIODS,
        "attribution_days": ATTRIBUTION_DAYS,
    }
    return TemplateResponse(request, "events/admin/recommendations_report.html", context)
