"""The report's pictures as inline SVG (no JavaScript, no CDN): the cumulative conversion rate per
variant over time, and the forest plot of each goal — every variant's uplift over the control
with its interval, one bar per table row on a scale shared by the rows of that goal."""

from __future__ import annotations

import math

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT, PAD = 720, 260, 40
COLOURS = ["#1f6f8b", "#e07a3f", "#5a9e4b", "#8a5ab8", "#c0392b", "#7f8c8d"]
BAR_WIDTH, BAR_HEIGHT, BAR_PAD = 240, 26, 6
VERDICT_COLOURS = {"better": "#1e7d32", "worse": "#b3261e"}
NEUTRAL = "#5f6b7a"


def percent(value: float | None, digits: int = 1, signed: bool = False) -> str:
    """0.1234 → "12.3 %" ("+12.3 %" when signed); "—" for no value."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{abs(value) * 100:,.{digits}f} %"
    if value < 0 and text.strip("0.,% ") != "":
        return f"−{text}"
    return f"+{text}" if signed else text


def cumulative_rate_svg(series: dict[str, list[tuple[str, float]]]) -> str:
    """An SVG line chart with its legend below it in HTML (so no name is ever clipped); an
    explanatory note when there is nothing to draw yet."""
    days = sorted({day for points in series.values() for day, _ in points})
    if not days:
        return '<p class="help-block">' + escape(_("No exposures counted yet.")) + "</p>"
    top = max((rate for points in series.values() for _, rate in points), default=0) or 0.01
    x_of = {day: PAD + i * (WIDTH - 2 * PAD) / max(len(days) - 1, 1) for i, day in enumerate(days)}

    def y(rate: float) -> float:
        return HEIGHT - PAD - rate / top * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg role="img" aria-label="{escape(_("Cumulative conversion rate per variant"))}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#999"/>',
        f'<text x="{PAD}" y="{PAD - 10}" font-size="12">{escape(percent(top))}</text>',
        f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="12">{escape(days[0])}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="12" text-anchor="end">'
        f"{escape(days[-1])}</text>",
    ]
    legend = []
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = COLOURS[index % len(COLOURS)]
        coords = " ".join(f"{x_of[day]:.1f},{y(rate):.1f}" for day, rate in points)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{coords}"/>'
        )
        # A marker per day, so one day of data (a line of one point) still shows, with its value.
        parts += [
            f'<circle cx="{x_of[day]:.1f}" cy="{y(rate):.1f}" r="3.5" fill="{colour}">'
            f"<title>{escape(name)}, {escape(day)}: {rate:.2%}</title></circle>"
            for day, rate in points
        ]
        legend.append((colour, name, percent(points[-1][1], 2)))
    parts.append("</svg>")
    items = format_html_join(
        "",
        '<li><span class="swatch" style="background:{}"></span>{} <small>{}</small></li>',
        legend,
    )
    return "".join(parts) + str(
        format_html('<ul class="chart-legend" aria-label="{}">{}</ul>', _("Variants"), items)
    )


def forest_scale(rows: list[dict]) -> tuple[float, float]:
    """The shared x range of one goal's bars: every interval and 0, with a little margin."""
    values = [0.0]
    for row in rows:
        values += [v for v in (row.get("ci_low"), row.get("ci_high"), row.get("uplift")) if v]
    low, high = min(values), max(values)
    if high - low < 0.02:
        low, high = low - 0.01, high + 0.01
    margin = (high - low) * 0.06
    return low - margin, high + margin


def uplift_bar_svg(row: dict, scale: tuple[float, float]) -> SafeString:
    """One row of the forest plot: the uplift (dot) and its interval (bar) against 0 (line)."""
    low, high = scale

    def x(value: float) -> float:
        return BAR_PAD + (value - low) / (high - low) * (BAR_WIDTH - 2 * BAR_PAD)

    colour = VERDICT_COLOURS.get(row.get("verdict") or "", NEUTRAL)
    label = _("Uplift %(point)s, interval %(low)s to %(high)s") % {
        "point": percent(row.get("uplift"), signed=True),
        "low": percent(row.get("ci_low"), signed=True),
        "high": percent(row.get("ci_high"), signed=True),
    }
    middle = BAR_HEIGHT / 2
    parts = [
        f'<svg class="uplift-bar" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" width="100%" preserveAspectRatio="none" '
        f'style="max-width:{BAR_WIDTH}px;height:{BAR_HEIGHT}px">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{x(0):.1f}" y1="2" x2="{x(0):.1f}" y2="{BAR_HEIGHT - 2}" '
        f'stroke="#333" stroke-dasharray="3,2"/>',
    ]
    if row.get("ci_low") is not None and row.get("ci_high") is not None:
        parts.append(
            f'<rect x="{x(row["ci_low"]):.1f}" y="{middle - 4}" '
            f'width="{max(x(row["ci_high"]) - x(row["ci_low"]), 1):.1f}" height="8" rx="4" '
            f'fill="{colour}" fill-opacity="0.35" stroke="{colour}"/>'
        )
    if row.get("uplift") is not None:
        parts.append(f'<circle cx="{x(row["uplift"]):.1f}" cy="{middle}" r="5" fill="{colour}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built from numbers and escaped text


def forest_axis(scale: tuple[float, float]) -> dict[str, str]:
    """The scale's labels for the column header: left end, right end."""
    return {"low": percent(scale[0], 0, signed=True), "high": percent(scale[1], 0, signed=True)}


def weight_history_svg(history: list[dict], names: list[str]) -> str:
    """A bandit's weights over time: one step line per variant (a weight holds until the next
    reweighting), the legend below in HTML with each variant's current weight."""
    if not history:
        return '<p class="help-block">' + escape(_("Not reweighted yet.")) + "</p>"
    times = [row.get("label") or row["computed_at"] for row in history]
    steps = max(len(history) - 1, 1)

    def x(index: float) -> float:
        return PAD + index * (WIDTH - 2 * PAD) / steps

    def y(weight: float) -> float:
        return HEIGHT - PAD - weight * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg role="img" aria-label="{escape(_("Weight of each variant over time"))}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#999"/>',
        f'<text x="{PAD}" y="{PAD - 10}" font-size="12">100 %</text>',
        f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="12">{escape(times[0])}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="12" text-anchor="end">'
        f"{escape(times[-1])}</text>",
    ]
    legend = []
    for index, name in enumerate(names):
        colour = COLOURS[index % len(COLOURS)]
        weights = [float(row["weights"].get(name, 0)) for row in history]
        points = []
        for step, weight in enumerate(weights):
            if step:
                points.append(f"{x(step):.1f},{y(weights[step - 1]):.1f}")
            points.append(f"{x(step):.1f},{y(weight):.1f}")
        if len(weights) == 1:
            points.append(f"{x(1):.1f},{y(weights[0]):.1f}")
        # earlier lines drawn wider, so a line hidden under an equal later one still shows
        width = 2.5 + 1.5 * (len(names) - 1 - index)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="{width:g}" '
            f'points="{" ".join(points)}"/>'
        )
        parts += [
            f'<circle cx="{x(step):.1f}" cy="{y(weight):.1f}" r="3.5" fill="{colour}">'
            f"<title>{escape(name)}, {escape(times[step])}: {escape(percent(weight))}</title>"
            f"</circle>"
            for step, weight in enumerate(weights)
        ]
        legend.append((colour, name, percent(weights[-1])))
    parts.append("</svg>")
    items = format_html_join(
        "",
        '<li><span class="swatch" style="background:{}"></span>{} <small>{}</small></li>',
        legend,
    )
    return "".join(parts) + str(
        format_html('<ul class="chart-legend" aria-label="{}">{}</ul>', _("Variants"), items)
    )
