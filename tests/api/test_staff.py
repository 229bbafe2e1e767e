"""Staff endpoints (segments, experiments and their results) and members' API tokens."""

from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient

from experiments.models import Experiment
from experiments.selectors import experiment_report, experiment_results
from experiments.services import aggregates_snapshot, exposure_record
from personalization.models import Segment
from tests.api.helpers import api_as
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.django_db


def test_staff_list_segments_with_their_rules_by_token(staff):
    response = api_as(user=staff).get("/api/v1/segments/", {"limit": 100})
    assert response.status_code == 200
    segments = {s["slug"]: s for s in response.json()["results"]}
    assert len(segments) == Segment.objects.count()
    assert segments["dog-people"]["rules"] == [
        {"attribute": "traits.pet", "operator": "eq", "value": "dog"}
    ]
    assert segments["overseas-visitors"]["advanced"] is True
    assert list(segments)[0] == "cart-abandoners"  # highest priority first


def test_staff_list_experiments_by_admin_session(staff):
    client = APIClient()
    client.force_login(staff)
    experiments = client.get("/api/v1/experiments/").json()["results"]
    hero = next(e for e in experiments if e["key"] == "home-hero")
    assert hero["status"] == "running"
    assert hero["variants"] == [
        {"name": "control", "weight": 0.5},
        {"name": "member-benefits", "weight": 0.5},
    ]
    assert [g["name"] for g in hero["goals"]] == ["Sign-up", "Visited the Members area"]


def test_results_are_the_numbers_of_the_admin_report(staff):
    experiment = Experiment.objects.get(key="home-hero")
    for variant in experiment.variants.all():
        exposure_record(
            experiment_id=experiment.pk, variant_id=variant.pk, visitor=str(uuid.uuid4())
        )
    aggregates_snapshot(experiment=experiment)
    response = api_as(user=staff).get("/api/v1/experiments/home-hero/results/")
    assert response.status_code == 200
    report = json.loads(json.dumps(experiment_report(experiment=experiment), default=str))
    assert response.json() == report
    primary = response.json()["goals"][0]
    assert [v["exposures"] for v in primary["variants"]] == [1, 1]


def test_results_for_one_goal(staff):
    experiment = Experiment.objects.get(key="home-hero")
    goal = experiment.goals.get(name="Visited the Members area")
    response = api_as(user=staff).get("/api/v1/experiments/home-hero/results/", {"goal": goal.pk})
    assert response.json()["goal"]["name"] == "Visited the Members area"
    expected = json.loads(json.dumps(experiment_results(experiment=experiment, goal=goal)))
    assert response.json() == expected


def test_results_refuse_unknown_experiments_and_foreign_goals(staff):
    api = api_as(user=staff)
    assert api.get("/api/v1/experiments/no-such-test/results/").status_code == 404
    response = api.get("/api/v1/experiments/home-hero/results/", {"goal": 999999})
    assert response.status_code == 400 and "goal" in response.json()


def test_a_member_exchanges_email_and_password_for_a_token_and_revokes_it():
    member = MemberFactory()
    api = APIClient()
    response = api.post(
        "/api/v1/auth-token/", {"username": member.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/visitor/").json()["profile"]["is_member"] is True
    assert api.delete("/api/v1/auth-token/").status_code == 204
    assert api.get("/api/v1/visitor/").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "nobody@example.com", "password": "x"}, "non_field_errors"),
        ({"username": "x"}, "password"),
        ({"password": "x"}, "username"),
    ],
)
def test_wrong_credentials_are_400(body, field):
    response = APIClient().post("/api/v1/auth-token/", body, format="json")
    assert response.status_code == 400 and field in response.json()
