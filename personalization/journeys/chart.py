"""The journey funnel as inline SVG (no JavaScript, no CDN), drawn like the experiment report's
charts: one bar per stage, its width the share of visitors who entered, with the count, that
share and the conversion from the stage before written beside it."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from personalization.journeys.reports import FunnelStage

WIDTH, ROW, PAD, LABEL = 720, 44, 8, 260
BAR_COLOUR, CONVERTED_COLOUR = "#1f6f8b", "#1e7d32"


def percent(value: float | None) -> str:
    """0.123 → "12.3 %"; "—" for no value."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:,.1f} %"


def _stage_text(stage: FunnelStage, first: bool) -> str:
    if first:
        return f"{stage.count:,}"
    return _("%(count)s · %(of_entered)s of entered · %(of_previous)s of the previous stage") % {
        "count": f"{stage.count:,}",
        "of_entered": percent(stage.of_entered),
        "of_previous": percent(stage.of_previous),
    }


def funnel_svg(stages: list[FunnelStage]) -> SafeString:
    """The funnel, or a note when nobody has entered yet."""
    if not stages or not stages[0].count:
        note = escape(_("Nobody has entered this journey yet."))
        return mark_safe(f'<p class="help-block">{note}</p>')  # noqa: S308 - escaped text
    height = len(stages) * ROW + PAD
    bar_space = WIDTH - LABEL - PAD
    parts = [
        f'<svg class="journey-funnel" role="img" '
        f'aria-label="{escape(_("Journey funnel: visitors at each stage"))}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px">'
    ]
    last = len(stages) - 1
    for index, stage in enumerate(stages):
        top = PAD + index * ROW
        width = max(bar_space * (stage.of_entered or 0), 2 if stage.count else 0)
        colour = CONVERTED_COLOUR if index == last else BAR_COLOUR
        text = _stage_text(stage, first=index == 0)
        parts += [
            f'<g data-stage="{index}">',
            f"<title>{escape(stage.label)}: {escape(text)}</title>",
            f'<text x="0" y="{top + 16}" font-size="13">{escape(stage.label)}</text>',
            f'<rect x="{LABEL}" y="{top + 2}" width="{width:.1f}" height="20" rx="3" '
            f'fill="{colour}"/>',
            f'<text x="{LABEL}" y="{top + 36}" font-size="12" fill="#444">{escape(text)}</text>',
            "</g>",
        ]
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built from numbers and escaped text
