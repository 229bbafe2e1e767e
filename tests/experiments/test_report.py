"""The experiment report read at a glance: a verdict banner that waits for enough data (and for a
fixed-horizon plan), names a better or worse variant on the primary goal, says when there is no
detectable difference and refuses to be trusted on a sample ratio mismatch; percentages, a bar per
variant, p-values adjusted over every comparison shown, run length, and notes that agree with
their row."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments.models import AnalysisMethod, Correction
from experiments.selectors import experiment_report
from experiments.stats import adjust_p_values
from personalization.events.models import Event
from personalization.models import Segment
from tests.experiments.report_data import convert, fill, running_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def page(editor, experiment) -> str:
    response = editor.get(f"/admin/experiments/report/{experiment.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def banner(html: str) -> str:
    section = re.search(
        r'<section class="experiment-verdict[^"]*"[^>]*>(.*?)</section>', html, re.S
    )
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(1))).strip())


def row(table: dict, name: str) -> dict:
    return next(r for r in table["variants"] if r["name"] == name)


def html_row(html: str, name: str, occurrence: int = 0) -> str:
    return html.split(f'data-variant="{name}"')[occurrence + 1].split("</tr>", 1)[0]


# THE BANNER
# ------------------------------------------------------------------------------


def test_collecting_data_until_every_variant_has_50_conversions(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (1000, 30), "b": (1000, 90)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "collecting"
    b = row(report["goals"][0], "b")
    assert b["verdict"] == "collecting"
    assert "not enough data yet: control 30 of 50 conversions per variant" in b["note"]
    text = banner(page(editor, experiment))
    assert "Collecting data: not enough data for a verdict yet." in text
    assert "2000 exposures so far" in text
    assert "the fewest so far: 30" in text


def test_a_clear_winner_is_named_with_its_uplift_and_adjusted_p_value(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (2000, 100), "b": (2000, 200)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "better" and report["verdict"]["variant"] == "b"
    assert report["verdict"]["conclusive"]
    html = page(editor, experiment)
    text = banner(html)
    assert "“b” is better than control on the primary goal." in text
    assert "+100.0 % on Sign-up" in text
    assert re.search(r"adjusted p-value (< )?0\.\d{3} \(Holm\)", text)
    b = html_row(html, "b")
    assert '<td class="rate">10.00 %</td>' in b
    assert "<strong>+100.0 %</strong>" in b and 'class="uplift-bar"' in b
    assert '<td class="chance">100 %</td>' in b
    assert "Better than control." in b
    assert '<td class="rate">5.00 %</td>' in html_row(html, "control")


def test_a_clear_loser_is_named(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (2000, 200), "b": (2000, 100)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "worse" and report["verdict"]["variant"] == "b"
    assert "“b” is worse than control on the primary goal." in banner(page(editor, experiment))
    assert "Worse than control." in html_row(page(editor, experiment), "b")


def test_no_detectable_difference(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (2000, 100), "b": (2000, 104)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "no_difference"
    assert not report["verdict"]["conclusive"]
    assert "No detectable difference on the primary goal." in banner(page(editor, experiment))
    assert "No detectable difference so far." in html_row(page(editor, experiment), "b")


def test_a_sample_ratio_mismatch_says_not_to_trust_the_results(editor):
    experiment = running_experiment()
    fill(experiment, {"control": (2000, 100), "b": (1500, 200)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "srm" and not report["verdict"]["conclusive"]
    text = banner(page(editor, experiment))
    assert "Sample ratio mismatch: don't trust these results." in text
    assert "better" not in text


def test_fixed_horizon_shows_no_verdict_before_the_plan_is_reached(editor):
    experiment = running_experiment(analysis=AnalysisMethod.FIXED, planned_sample_size=3000)
    fill(experiment, {"control": (2000, 100), "b": (2000, 200)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "collecting"
    assert report["verdict"]["progress"]["share_of_plan"] == pytest.approx(2000 / 3000)
    b = row(report["goals"][0], "b")
    assert "planned size not reached: control 2,000, b 2,000 of 3,000 visitors" in b["note"]
    text = banner(page(editor, experiment))
    assert "Fixed-horizon plan: 3000 visitors per variant" in text and "(67 %)" in text

    fill(experiment, {"control": (1000, 50), "b": (1000, 100)})
    report = experiment_report(experiment=experiment)
    assert report["verdict"]["state"] == "better"
    assert report["experiment"]["analysis"] == "fixed"


def test_new_experiments_are_read_sequentially():
    experiment = running_experiment()
    assert experiment.analysis == AnalysisMethod.SEQUENTIAL and experiment.sequential
    assert experiment_report(experiment=experiment)["experiment"]["analysis"] == "sequential"


# THE TABLES
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [Correction.HOLM, Correction.BH])
def test_p_values_are_adjusted_over_every_comparison_the_report_shows(editor, method):
    experiment = running_experiment(
        variants=(("control", 1 / 3), ("b", 1 / 3), ("c", 1 / 3)),
        goals=("Sign-up", "Purchase"),
        correction=method,
    )
    segment = Segment.objects.order_by("pk").first()
    fill(experiment, {"control": (900, 60), "b": (900, 80), "c": (900, 66)}, recount=False)
    fill(
        experiment,
        {"control": (300, 20), "b": (300, 35), "c": (300, 25)},
        segment_id=segment.pk,
        recount=False,
    )
    convert(experiment, "Purchase", {"control": 55, "b": 70, "c": 52})
    report = experiment_report(experiment=experiment)
    tables = [*report["goals"], *report["segments"]]
    assert len(tables) == 3  # two goals overall, the primary goal in one segment
    rows = [r for t in tables for r in t["variants"] if not r["is_control"]]
    assert len(rows) == 6 and all(r["p_value"] is not None for r in rows)
    expected = adjust_p_values([r["p_value"] for r in rows], method)
    assert [r["adjusted_p_value"] for r in rows] == pytest.approx(expected)
    assert report["correction"]["method"] == method
    assert report["correction"]["comparisons"] == 6
    name = {"holm": "Holm", "bh": "Benjamini–Hochberg"}[method]
    html = page(editor, experiment)
    assert f"p-value (adjusted, {name})" in html
    assert f"{name}, over 6 comparisons" in html


def test_notes_agree_with_their_row(editor):
    experiment = running_experiment()
    fill(experiment, {"b": (1, 0)})
    report = experiment_report(experiment=experiment)
    control, b = report["goals"][0]["variants"]
    assert control["exposures"] == 0 and control["note"] == "No exposures yet."
    assert b["exposures"] == 1 and "No exposures" not in b["note"]
    assert "control 0, b 0 of 50 conversions" in b["note"]


def test_the_run_length_and_exposures_per_day(editor):
    experiment = running_experiment(days=10)
    fill(experiment, {"control": (1000, 10), "b": (1000, 12)})
    run = experiment_report(experiment=experiment)["run"]
    assert run["days"] == pytest.approx(10, abs=0.05)
    assert run["exposures_per_day"] == pytest.approx(200, abs=2)
    assert "10.0 days · 200 exposures a day" in page(editor, experiment)


def test_percentages_not_decimals_and_a_legend_that_is_never_clipped(editor):
    experiment = running_experiment(variants=(("control", 0.5), ("a-long-variant-name", 0.5)))
    fill(experiment, {"control": (300, 100), "a-long-variant-name": (300, 120)})
    html = page(editor, experiment)
    rates = re.findall(r'<td class="rate">([^<]*)</td>', html)
    uplifts = re.findall(r'<td class="uplift"><strong>([^<]*)</strong> <small>\(([^)]*)\)', html)
    chances = re.findall(r'<td class="chance">([^<]*)</td>', html)
    assert rates == ["33.33 %", "40.00 %"]
    assert uplifts and all(
        u.endswith(" %") and re.fullmatch(r"\S+ % to \S+ %", i) for u, i in uplifts
    )
    assert chances[1].endswith(" %")
    legend = re.search(r'<ul class="chart-legend"[^>]*>(.*?)</ul>', html, re.S).group(1)
    assert "a-long-variant-name" in legend and "control" in legend
    svg = re.search(r"<svg role=\"img\" aria-label=\"Cumulative.*?</svg>", html, re.S).group(0)
    assert ">a-long-variant-name<" not in svg  # names are in the HTML legend, not drawn in SVG


def test_the_report_has_the_admin_header_with_breadcrumbs(editor):
    experiment = running_experiment()
    html = page(editor, experiment)
    assert 'href="/admin/experiments/"' in html and "Experiments" in html
    assert f'href="/admin/experiments/edit/{experiment.pk}/"' in html


def test_computing_the_report_reads_no_events():
    experiment = running_experiment(goals=("Sign-up", "Purchase"))
    fill(experiment, {"control": (200, 20), "b": (200, 30)}, pre={"control": (40, 10)})
    with CaptureQueriesContext(connection) as queries:
        experiment_report(experiment=experiment)
    events = Event._meta.db_table
    assert not [q for q in queries if events in q["sql"]]
    assert len(queries) <= 8
