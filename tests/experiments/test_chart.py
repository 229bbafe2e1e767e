"""The report's chart: what an editor can read off it, from the first day on."""

from __future__ import annotations

import re

from experiments.chart import cumulative_rate_svg


def test_nothing_counted_yet_is_said_in_words():
    assert "No exposures counted yet." in cumulative_rate_svg({})


def test_a_single_day_shows_a_marker_per_variant_with_its_rate():
    svg = cumulative_rate_svg({"control": [("2026-11-23", 0.05)], "hero-b": [("2026-11-23", 0.1)]})
    titles = re.findall(r"<circle [^>]*><title>([^<]*)</title></circle>", svg)
    assert titles == ["control, 2026-11-23: 5.00%", "hero-b, 2026-11-23: 10.00%"]


def test_each_day_of_a_series_gets_a_point_on_its_line():
    series = {"control": [("2026-11-21", 0.02), ("2026-11-22", 0.03), ("2026-11-23", 0.04)]}
    svg = cumulative_rate_svg(series)
    assert svg.count("<circle ") == 3
    assert len(re.search(r'points="([^"]*)"', svg).group(1).split()) == 3


def test_variant_names_are_escaped():
    svg = cumulative_rate_svg({"<b>x</b>": [("2026-11-23", 0.5)]})
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
