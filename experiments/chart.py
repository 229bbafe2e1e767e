"""The report's chart: cumulative conversion rate per variant over time, as inline SVG (no
JavaScript, no CDN)."""

from __future__ import annotations

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 720, 260, 40
COLOURS = ["#1f6f8b", "#e07a3f", "#5a9e4b", "#8a5ab8", "#c0392b", "#7f8c8d"]


def cumulative_rate_svg(series: dict[str, list[tuple[str, float]]]) -> str:
    """An SVG line chart; an explanatory note when there is nothing to draw yet."""
    days = sorted({day for points in series.values() for day, _ in points})
    if not days:
        return '<p class="help-block">No exposures counted yet.</p>'
    top = max((rate for points in series.values() for _, rate in points), default=0) or 0.01
    x_of = {day: PAD + i * (WIDTH - 2 * PAD) / max(len(days) - 1, 1) for i, day in enumerate(days)}

    def y(rate: float) -> float:
        return HEIGHT - PAD - rate / top * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg role="img" aria-label="Cumulative conversion rate per variant" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#999"/>',
        f'<text x="{PAD}" y="{PAD - 10}" font-size="12">{top:.1%}</text>',
        f'<text x="{PAD}" y="{HEIGHT - 10}" font-size="12">{escape(days[0])}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 10}" font-size="12" text-anchor="end">'
        f"{escape(days[-1])}</text>",
    ]
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
        parts.append(
            f'<text x="{WIDTH - PAD + 4}" y="{PAD + 16 * index}" font-size="12" '
            f'fill="{colour}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
