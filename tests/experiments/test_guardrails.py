"""Guardrail goals end to end: the hourly check records a harm once, pauses the experiment when it
asks for that, and e-mails its owner exactly once; the report shows a red banner and its own
Guardrails section, the results API and the CSV the same figures; a guardrail never enters the
primary goals' family or verdict. Data are real exposures and conversions counted by the real
`reports` job."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from experiments.jobs import check_guardrails
from experiments.models import ExperimentStatus, GuardrailAlert, HarmDirection
from experiments.selectors import Verdict, experiment_report
from personalization.events.models import Event
from tests.experiments.report_data import convert, fill, running_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def owner():
    return get_user_model().objects.create_user(
        username="owner", email="owner@example.com", password="x", first_name="Olive"
    )


def guarded(direction: str = HarmDirection.INCREASE, **fields):
    """Control and b; Sign-up (primary, b clearly better) and a guardrail on the second goal."""
    experiment = running_experiment(goals=("Sign-up", "Removed from cart"), **fields)
    experiment.goals.filter(name="Removed from cart").update(
        is_guardrail=True, harm_direction=direction, event_type="remove_from_cart"
    )
    fill(experiment, {"control": (2000, 100), "b": (2000, 170)}, recount=False)
    return experiment


def harmed(**fields):
    """b doubles the removals from the cart: 2 % → 6 %."""
    experiment = guarded(**fields)
    convert(experiment, "Removed from cart", {"control": 40, "b": 120})
    return experiment


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


# THE REPORT: OWN SECTION, OUT OF THE FAMILY AND THE VERDICT
# ------------------------------------------------------------------------------


def test_a_harm_is_found_and_the_primary_verdict_is_unchanged():
    report = experiment_report(experiment=harmed())
    assert [t["goal"]["name"] for t in report["goals"]] == ["Sign-up"]
    assert report["correction"]["comparisons"] == 1  # the guardrail is not in the family
    assert report["verdict"]["state"] == Verdict.BETTER and report["verdict"]["variant"] == "b"
    guardrails = report["guardrails"]
    (table,) = guardrails["goals"]
    assert table["goal"]["name"] == "Removed from cart"
    assert table["goal"]["harm_direction"] == "increase"
    b = table["variants"][1]
    assert b["harmful"] and b["verdict"] == "harm"
    assert b["rate"] == pytest.approx(0.06) and b["abs_uplift"] == pytest.approx(0.04)
    assert b["uplift"] == pytest.approx(2.0)
    assert 0 < b["bound"] < 0.04 and b["abs_ci_low"] == b["bound"] and b["abs_ci_high"] is None
    assert b["adjusted_p_value"] < 0.05
    (harm,) = guardrails["harm"]
    assert (harm["variant"], harm["goal"]) == ("b", "Removed from cart")
    assert guardrails["correction"] == {"method": "holm", "name": "Holm", "comparisons": 1}


def test_a_guardrail_that_moves_the_good_way_is_no_harm():
    experiment = guarded()
    convert(experiment, "Removed from cart", {"control": 120, "b": 40})
    report = experiment_report(experiment=experiment)
    b = report["guardrails"]["goals"][0]["variants"][1]
    assert not b["harmful"] and b["verdict"] == "no_harm" and b["p_value"] == 1.0
    assert report["guardrails"]["harm"] == []


def test_a_decrease_can_be_the_harm():
    experiment = guarded(direction=HarmDirection.DECREASE)
    convert(experiment, "Removed from cart", {"control": 120, "b": 40})
    (harm,) = experiment_report(experiment=experiment)["guardrails"]["harm"]
    assert harm["variant"] == "b" and harm["abs_uplift"] == pytest.approx(-0.04)


def test_holm_over_several_guardrails_and_variants():
    experiment = running_experiment(
        variants=(("control", 1 / 3), ("b", 1 / 3), ("c", 1 / 3)),
        goals=("Sign-up", "Removed from cart", "Purchase"),
    )
    experiment.goals.exclude(name="Sign-up").update(is_guardrail=True)
    fill(experiment, {"control": (2000, 100), "b": (2000, 100), "c": (2000, 100)}, recount=False)
    convert(experiment, "Removed from cart", {"control": 40, "b": 72, "c": 40})
    convert(experiment, "Purchase", {"control": 40, "b": 40, "c": 40})
    guardrails = experiment_report(experiment=experiment)["guardrails"]
    assert guardrails["correction"]["comparisons"] == 4
    b = guardrails["goals"][0]["variants"][1]
    # significant on its own (one-sided p < 0.05), not after Holm over the 4 comparisons
    assert (
        b["p_value"] < 0.05 <= b["adjusted_p_value"] and b["adjusted_p_value"] <= 4 * b["p_value"]
    )
    assert not b["harmful"] and guardrails["harm"] == []


def test_the_report_page_has_a_red_banner_and_a_guardrails_section(client, admin):
    experiment = harmed()
    client.force_login(admin)
    html = client.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    banner = re.search(
        r'<section class="experiment-warning guardrail-harm"[^>]*>(.*?)</section>', html, re.S
    )
    assert banner is not None
    assert banner.start() < html.index('<section class="experiment-verdict')  # at the top
    words = text(banner.group(1))
    assert "Guardrail harm" in words
    assert (
        "“b” changes Removed from cart by +200.0 % (2.00 % with control, 6.00 % with “b”)" in words
    )
    assert "still running" in words
    section = html.split('<section id="guardrails">')[1].split("</section>")[0]
    assert "Removed from cart" in section and "an increase is harm" in section
    b_row = section.split('data-variant="b"')[1].split("</tr>")[0]
    assert "verdict-worse" in section and "Significant harm" in b_row
    assert "+4.00 pp" in b_row and "at least +" in b_row


def test_no_banner_without_harm(client, admin):
    experiment = guarded()
    convert(experiment, "Removed from cart", {"control": 40, "b": 41})
    client.force_login(admin)
    html = client.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    assert "guardrail-harm" not in html and '<section id="guardrails">' in html


def test_the_api_and_the_csv_give_the_same_guardrail_figures(client, admin):
    experiment = harmed()
    api = APIClient()
    api.force_authenticate(admin)
    body = api.get(f"/api/v1/experiments/{experiment.key}/results/").json()
    report = json.loads(json.dumps(experiment_report(experiment=experiment)))
    assert body["guardrails"] == report["guardrails"] and body["goals"] == report["goals"]
    assert body["guardrails"]["harm"][0]["variant"] == "b"
    goal = experiment.goals.get(name="Removed from cart")
    one = api.get(f"/api/v1/experiments/{experiment.key}/results/", {"goal": goal.pk})
    assert one.status_code == 200
    assert one.json()["variants"][1]["verdict"] == "harm"
    assert one.json()["correction"]["method"] == "holm"

    client.force_login(admin)
    response = client.get(f"/admin/experiments/report/{experiment.pk}/csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    guard = [r for r in rows if r["goal"] == "Removed from cart"]
    assert [r["variant"] for r in guard] == ["control", "b"]
    assert guard[1]["guardrail"] == "increase" and guard[1]["verdict"] == "harm"
    assert guard[1]["correction"] == "holm"
    b = report["guardrails"]["goals"][0]["variants"][1]
    assert float(guard[1]["adjusted_p_value"]) == pytest.approx(b["adjusted_p_value"])
    assert all(r["guardrail"] == "" for r in rows if r["goal"] == "Sign-up")


# THE HOURLY CHECK
# ------------------------------------------------------------------------------


def test_the_check_records_pauses_and_emails_the_owner_once(owner):
    experiment = harmed(owner=owner, pause_on_harm=True)
    assert check_guardrails() == 1
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.PAUSED
    alert = GuardrailAlert.objects.get(experiment=experiment)
    assert (alert.variant.name, alert.goal.name) == ("b", "Removed from cart")
    assert alert.paused and alert.notified_at is not None
    assert alert.uplift == pytest.approx(2.0) and alert.p_value < 0.05
    (message,) = mail.outbox
    assert message.to == ["owner@example.com"]
    assert experiment.name in message.subject and "harm" in message.subject
    report_url = f"{settings.WAGTAILADMIN_BASE_URL}/admin/experiments/report/{experiment.pk}/"
    assert report_url in message.body
    assert "“b” on Removed from cart: +200.0 %" in message.body
    assert "has been paused" in message.body and "Hello Olive" in message.body

    assert check_guardrails() == 0  # a second run: nothing new
    assert len(mail.outbox) == 1 and GuardrailAlert.objects.count() == 1


def test_without_pause_on_harm_the_experiment_keeps_running(owner):
    experiment = harmed(owner=owner, pause_on_harm=False)
    assert check_guardrails() == 1
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    assert not GuardrailAlert.objects.get().paused
    (message,) = mail.outbox
    assert "keeps running" in message.body
    check_guardrails()
    assert len(mail.outbox) == 1


def test_without_an_owner_the_alert_is_recorded_and_nobody_is_emailed():
    experiment = harmed(pause_on_harm=True)
    assert check_guardrails() == 1
    alert = GuardrailAlert.objects.get(experiment=experiment)
    assert alert.notified_at is None and alert.paused
    assert mail.outbox == []


def test_the_paused_report_says_the_check_paused_it(client, admin, owner):
    experiment = harmed(owner=owner, pause_on_harm=True)
    check_guardrails()
    client.force_login(admin)
    html = client.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    banner = html.split('class="experiment-warning guardrail-harm"')[1].split("</section>")[0]
    assert "The guardrail check paused this experiment on" in text(banner)
    assert "owner e-mailed" in html and "paused the experiment" in html


def test_no_harm_no_alert(owner):
    experiment = guarded(owner=owner, pause_on_harm=True)
    convert(experiment, "Removed from cart", {"control": 40, "b": 44})
    assert check_guardrails() == 0
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING
    assert not GuardrailAlert.objects.exists() and mail.outbox == []


def test_a_resumed_experiment_is_not_paused_again_for_the_same_harm(owner):
    experiment = harmed(owner=owner, pause_on_harm=True)
    check_guardrails()
    experiment.refresh_from_db()
    experiment.status = ExperimentStatus.RUNNING  # the owner decided the harm is acceptable
    experiment.save()
    assert check_guardrails() == 0
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING and len(mail.outbox) == 1


def test_experiments_without_guardrails_or_not_running_are_not_checked(owner):
    experiment = harmed(owner=owner, pause_on_harm=True)
    experiment.status = ExperimentStatus.PAUSED
    experiment.save()
    plain = running_experiment(key="plain")
    fill(plain, {"control": (100, 5), "b": (100, 30)})
    assert check_guardrails() == 0 and not GuardrailAlert.objects.exists()


def test_the_check_reads_the_aggregates_not_the_events(owner):
    harmed(owner=owner, pause_on_harm=True)
    with CaptureQueriesContext(connection) as queries:
        check_guardrails()
    assert not [q for q in queries if Event._meta.db_table in q["sql"]]


def test_declaring_a_harmful_variant_the_winner_warns_loudly(client, admin):
    experiment = harmed()
    b = experiment.variants.get(name="b")
    client.force_login(admin)
    html = client.get(f"/admin/experiments/report/{experiment.pk}/winner/?variant={b.pk}")
    page = text(html.content.decode())
    assert "“b” harms a guardrail" in page
    assert "ships the harm shown above to every visitor" in page
    control = experiment.variants.get(name="control")
    other = text(
        client.get(
            f"/admin/experiments/report/{experiment.pk}/winner/?variant={control.pk}"
        ).content.decode()
    )
    assert "harms a guardrail" not in other
