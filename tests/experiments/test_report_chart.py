"""The report's pictures and numbers as a marketer reads them: percentages with a real minus
sign, and a forest-plot bar per variant on a scale its goal's rows share."""

from __future__ import annotations

import re

import pytest

from experiments.chart import cumulative_rate_svg, forest_scale, percent, uplift_bar_svg


@pytest.mark.parametrize(
    ("value", "options", "shown"),
    [
        (0.3333, {}, "33.3 %"),
        (0.05, {"digits": 2}, "5.00 %"),
        (1.0, {"signed": True}, "+100.0 %"),
        (-0.2001, {"signed": True}, "−20.0 %"),
        (-0.00001, {"signed": True}, "+0.0 %"),
        (None, {}, "—"),
        (float("nan"), {}, "—"),
    ],
)
def test_percentages(value, options, shown):
    assert percent(value, **options) == shown


def test_the_scale_holds_every_interval_and_zero():
    rows = [{"uplift": 0.2, "ci_low": 0.05, "ci_high": 0.35}, {"uplift": -0.1, "ci_low": -0.3}]
    low, high = forest_scale(rows)
    assert low < -0.3 and high > 0.35
    low, high = forest_scale([{"uplift": 0.5, "ci_low": 0.4, "ci_high": 0.6}])
    assert low < 0 < high  # "no difference" is always on the scale


def x_positions(svg: str) -> dict[str, float]:
    zero = float(re.search(r'<line x1="([\d.]+)"', svg).group(1))
    bar = re.search(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    dot = float(re.search(r'<circle cx="([\d.]+)"', svg).group(1))
    return {
        "zero": zero,
        "low": float(bar.group(1)),
        "high": sum(map(float, bar.groups())),
        "dot": dot,
    }


def test_a_bar_is_its_interval_with_the_estimate_on_it_right_of_zero_for_a_gain():
    row = {"uplift": 0.2, "ci_low": 0.05, "ci_high": 0.35, "verdict": "better"}
    svg = str(uplift_bar_svg(row, (-0.1, 0.4)))
    at = x_positions(svg)
    assert at["zero"] < at["low"] < at["dot"] < at["high"]
    assert 'fill="#1e7d32"' in svg  # better: green
    assert "Uplift +20.0 %, interval +5.0 % to +35.0 %" in svg


def test_a_loss_is_left_of_zero_and_red_and_no_interval_draws_no_bar():
    row = {"uplift": -0.2, "ci_low": -0.3, "ci_high": -0.1, "verdict": "worse"}
    at = x_positions(str(uplift_bar_svg(row, (-0.4, 0.1))))
    assert at["high"] < at["zero"]
    empty = str(uplift_bar_svg({"uplift": None, "ci_low": None, "ci_high": None}, (-0.1, 0.1)))
    assert "<rect" not in empty and "<circle" not in empty and "<line" in empty


def test_the_legend_is_html_under_the_chart_with_each_full_name_and_latest_rate():
    svg = cumulative_rate_svg(
        {"control": [("2026-11-23", 0.05)], "a-very-long-name": [("2026-11-23", 0.1)]}
    )
    legend = re.search(r'<ul class="chart-legend"[^>]*>(.*)</ul>', svg).group(1)
    assert "a-very-long-name <small>10.00 %</small>" in legend
    assert "control <small>5.00 %</small>" in legend
