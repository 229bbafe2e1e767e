"""The report "Is personalization working?": per holdout, the lift of personalized over default
content on each goal (sequential), p-values adjusted over every segment × goal on the page, a
plain verdict; the admin view and the staff API show the same figures."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from experiments.holdout_report import holdout_report
from experiments.models import Goal, GoalKind
from experiments.selectors import Verdict, experiment_report
from experiments.stats import adjust_p_values
from personalization.models import Segment
from tests.api.helpers import api_as
from tests.experiments.holdout_helpers import make_holdout
from tests.experiments.report_data import fill

pytestmark = pytest.mark.django_db
REPORT = "/admin/personalization/holdouts-report/"


@pytest.fixture
def holdouts():
    """Dog people: personalization clearly works (5 % → 15 %); mobile visitors: no difference
    (10 % vs 10.3 %), on two goals; the global holdout: a handful of visitors so far."""
    dogs = make_holdout(Segment.objects.get(slug="dog-people"), 0.5)
    fill(dogs, {"default": (1000, 50), "personalized": (1000, 150)})
    mobile = make_holdout(Segment.objects.get(slug="mobile-visitors"), 0.5)
    Goal.objects.create(
        experiment=mobile, name="Purchase", kind=GoalKind.EVENT, event_type="purchase"
    )
    fill(mobile, {"default": (600, 60), "personalized": (600, 62)})
    fill(mobile, {"default": (0, 0), "personalized": (0, 0)}, goal="Purchase")
    everyone = make_holdout(None, 0.1)
    fill(everyone, {"default": (3, 0), "personalized": (27, 2)})
    return {"dogs": dogs, "mobile": mobile, "everyone": everyone}


def entry_of(report: dict, holdout) -> dict:
    return next(e for e in report["holdouts"] if e["holdout"]["id"] == holdout.pk)


def test_one_entry_per_holdout_with_the_lift_of_personalized_over_default(holdouts):
    report = holdout_report()
    assert [e["holdout"]["key"] for e in report["holdouts"]] == [
        "holdout-all",
        "holdout-dog-people",
        "holdout-mobile-visitors",
    ]
    dogs = entry_of(report, holdouts["dogs"])
    assert dogs["holdout"]["segment"]["name"] == "Dog people"
    assert dogs["holdout"]["share"] == pytest.approx(0.5)
    assert dogs["exposures"] == {"default": 1000, "personalized": 1000}
    [line] = dogs["lines"]
    assert line["default"]["rate"] == pytest.approx(0.05)
    assert line["personalized"]["rate"] == pytest.approx(0.15)
    assert line["uplift"] == pytest.approx(2.0)  # relative: 15 % is three times 5 %
    assert line["ci_low"] > 0 and line["ci_high"] > line["uplift"]
    assert line["verdict"] == Verdict.BETTER
    assert dogs["verdict"]["state"] == Verdict.BETTER
    assert dogs["verdict"]["headline"] == "Personalization works: +200.0 % on Sign-up."


def test_the_figures_are_the_holdouts_own_sequential_report(holdouts):
    """Same lift, interval and raw p-value as the holdout's experiment report (sequential)."""
    assert holdouts["dogs"].sequential
    own = experiment_report(experiment=holdouts["dogs"])["goals"][0]["variants"][1]
    line = entry_of(holdout_report(), holdouts["dogs"])["lines"][0]
    for field in ("uplift", "ci_low", "ci_high", "p_value"):
        assert line[field] == pytest.approx(own[field]), field


def test_p_values_are_adjusted_over_every_segment_and_goal_on_the_page(holdouts):
    for correction in ("holm", "bh"):
        report = holdout_report(correction=correction)
        lines = [line for e in report["holdouts"] for line in e["lines"]]
        assert len(lines) == 4  # global (1 goal), dogs (1), mobile (2)
        expected = adjust_p_values([line["p_value"] for line in lines], correction)
        assert [line["adjusted_p_value"] for line in lines] == expected
        assert report["correction"]["method"] == correction
        assert report["correction"]["comparisons"] == sum(
            1 for line in lines if line["p_value"] is not None
        )
        family = [line for line in lines if line["p_value"] is not None]
        assert len(family) >= 2 and any(
            line["adjusted_p_value"] > line["p_value"] for line in family
        )


def test_plain_verdicts_no_difference_and_collecting(holdouts):
    report = holdout_report()
    mobile = entry_of(report, holdouts["mobile"])
    assert mobile["verdict"]["state"] == Verdict.NO_DIFFERENCE
    assert mobile["verdict"]["headline"] == (
        "No detectable effect of personalization on Sign-up so far."
    )
    purchase = next(line for line in mobile["lines"] if line["goal"]["name"] == "Purchase")
    assert purchase["verdict"] == Verdict.COLLECTING
    everyone = entry_of(report, holdouts["everyone"])
    assert everyone["holdout"]["segment"] is None
    assert everyone["exposures"] == {"default": 3, "personalized": 27}
    assert everyone["verdict"]["state"] == Verdict.COLLECTING


def test_the_global_holdout_shows_its_primary_goal_per_segment_at_exposure():
    everyone = make_holdout(None, 0.5)
    dogs = Segment.objects.get(slug="dog-people")
    fill(everyone, {"default": (200, 10), "personalized": (200, 30)}, segment_id=dogs.pk)
    [entry] = holdout_report()["holdouts"]
    assert [line["label"] for line in entry["lines"]] == ["Sign-up", "Sign-up · Dog people"]
    assert entry["lines"][1]["segment_id"] == dogs.pk
    assert entry["lines"][1]["personalized"]["exposures"] == 200


def test_a_holdout_that_hurts_says_the_default_does_better():
    hurts = make_holdout(Segment.objects.get(slug="dog-people"), 0.5)
    fill(hurts, {"default": (1000, 150), "personalized": (1000, 50)})
    [entry] = holdout_report()["holdouts"]
    assert entry["verdict"]["state"] == Verdict.WORSE
    assert entry["verdict"]["headline"].startswith("Personalization hurts: the default content")


def test_a_draft_holdout_is_not_started():
    make_holdout(Segment.objects.get(slug="dog-people"), 0.05, start=False)
    [entry] = holdout_report()["holdouts"]
    assert entry["verdict"]["state"] == Verdict.NOT_STARTED


def test_the_admin_report_shows_each_segments_lift_and_verdict(client, holdouts):
    client.force_login(get_user_model().objects.get(username="admin"))
    response = client.get(REPORT)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Is personalization working?" in html
    assert 'href="/admin/personalization/holdouts/"' in html  # breadcrumbs
    assert 'data-holdout="holdout-dog-people"' in html
    assert "Personalization works: +200.0 % on Sign-up." in html
    assert "+200.0 %" in html and "5.00 %" in html and "15.00 %" in html
    assert "50 / 1000" in html and "150 / 1000" in html  # conversions / exposures per arm
    assert "Holm, over 2 comparisons on this page." in html
    assert "No detectable effect of personalization on Sign-up so far." in html
    assert 'class="uplift-bar"' in html
    bh = client.get(REPORT, {"correction": "bh"}).content.decode()
    assert "Benjamini–Hochberg, over 2 comparisons" in bh


def test_the_report_with_no_holdouts_says_how_to_add_one(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    html = client.get(REPORT).content.decode()
    assert "No holdouts yet." in html


def test_the_holdouts_list_shows_the_lift(client, holdouts):
    client.force_login(get_user_model().objects.get(username="admin"))
    html = client.get("/admin/personalization/holdouts/").content.decode()
    assert "+200.0 %" in html and "All segments" in html and "50.0 %" in html


def test_staff_read_the_same_figures_from_the_api(staff, holdouts):
    response = api_as(user=staff).get("/api/v1/personalization/holdouts/")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(holdout_report(), default=str))
    assert (
        api_as(user=staff)
        .get("/api/v1/personalization/holdouts/", {"correction": "bh"})
        .json()["correction"]["method"]
        == "bh"
    )
    bad = api_as(user=staff).get("/api/v1/personalization/holdouts/", {"correction": "x"})
    assert bad.status_code == 400 and "correction" in bad.json()


def test_the_api_report_is_for_staff_only(member):
    assert api_as().get("/api/v1/personalization/holdouts/").status_code in (401, 403)
    assert api_as(user=member).get("/api/v1/personalization/holdouts/").status_code == 403


@pytest.fixture
def staff(db):
    return get_user_model().objects.get(username="admin")
