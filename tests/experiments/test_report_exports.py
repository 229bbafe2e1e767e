"""The results API and the CSV give the report's figures: the same rates, uplifts, intervals,
p-values adjusted over the whole report with the method named, verdicts and notes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from experiments.models import Correction
from experiments.selectors import experiment_report
from personalization.models import Segment
from tests.experiments.report_data import fill, running_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def experiment():
    experiment = running_experiment(
        variants=(("control", 1 / 3), ("b", 1 / 3), ("c", 1 / 3)), correction=Correction.BH
    )
    segment = Segment.objects.order_by("pk").first()
    fill(experiment, {"control": (900, 60), "b": (900, 160), "c": (900, 64)}, recount=False)
    fill(experiment, {"control": (300, 20), "b": (300, 40), "c": (300, 21)}, segment_id=segment.pk)
    return experiment


def as_json(value):
    return json.loads(json.dumps(value))


def test_the_results_api_gives_the_report(admin, experiment):
    api = APIClient()
    api.force_authenticate(admin)
    response = api.get(f"/api/v1/experiments/{experiment.key}/results/")
    assert response.status_code == 200
    body = response.json()
    assert body == as_json(experiment_report(experiment=experiment))
    assert body["correction"] == {"method": "bh", "name": "Benjamini–Hochberg", "comparisons": 4}
    assert body["verdict"]["state"] == "better" and body["verdict"]["variant"] == "b"
    b = body["goals"][0]["variants"][1]
    assert b["name"] == "b" and b["verdict"] == "better" and b["adjusted_p_value"] < 0.05
    assert b["rate"] == pytest.approx(200 / 1200)


def test_one_goal_from_the_api_keeps_the_whole_report_s_adjustment(admin, experiment):
    api = APIClient()
    api.force_authenticate(admin)
    goal = experiment.goals.get()
    body = api.get(f"/api/v1/experiments/{experiment.key}/results/", {"goal": goal.pk}).json()
    report = as_json(experiment_report(experiment=experiment))
    assert body["variants"] == report["goals"][0]["variants"]
    assert body["correction"]["comparisons"] == 4


def test_the_csv_has_the_same_figures_and_names_the_correction(client, admin, experiment):
    client.force_login(admin)
    response = client.get(f"/admin/experiments/report/{experiment.pk}/csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    report = experiment_report(experiment=experiment)
    expected = [
        (table["goal"]["name"], segment, row)
        for table, segment in [(t, "everyone") for t in report["goals"]]
        + [(s, s["name"]) for s in report["segments"]]
        for row in table["variants"]
    ]
    assert len(rows) == len(expected) == 6
    for line, (goal, segment, row) in zip(rows, expected, strict=True):
        assert (line["goal"], line["segment"], line["variant"]) == (goal, segment, row["name"])
        for column in ("rate", "uplift", "ci_low", "ci_high", "p_value", "adjusted_p_value"):
            value = row[column]
            assert line[column] == ("" if value is None else str(value)), column
        assert line["verdict"] == (row["verdict"] or "") and line["note"] == row["note"]
        assert line["correction"] == ("" if row["is_control"] else "bh")
