"""The journey report's funnel: entered → each step's messages sent → converted, with each
stage's share of those who entered and its conversion from the stage before, drawn as SVG on a
report page with Wagtail's header; durations are pluralised ("1 day", "2 days")."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from personalization.journeys.chart import funnel_svg
from personalization.journeys.models import (
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyMessage,
    JourneyStep,
    MessageStatus,
    StepAction,
    duration_label,
)
from personalization.journeys.reports import journey_funnel, journey_report
from personalization.models import Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_step_journey() -> Journey:
    """Ten entered; eight got the first message, four the second; two converted."""
    journey = Journey.objects.create(
        name="Win-back", trigger="no_visit", window_amount=30, window_unit="days"
    )
    first = JourneyStep.objects.create(
        journey=journey,
        sort_order=0,
        action=StepAction.ON_SITE,
        message_text="Hi",
        delay_amount=1,
        delay_unit="days",
    )
    second = JourneyStep.objects.create(
        journey=journey,
        sort_order=1,
        action=StepAction.ON_SITE,
        message_text="Again",
        delay_amount=2,
        delay_unit="days",
    )
    now = timezone.now()
    for number in range(10):
        visitor = Visitor.objects.create()
        entry = JourneyEntry.objects.create(
            journey=journey,
            visitor=visitor,
            trigger_key=f"t{number}",
            triggered_at=now,
            step_base_at=now,
            status=EntryStatus.DONE,
            first_messaged_at=now if number < 8 else None,
            converted_at=now if number < 2 else None,
        )
        reached = [first] if number < 8 else []
        reached += [second] if number < 4 else []
        for step in reached:
            JourneyMessage.objects.create(
                entry=entry,
                journey=journey,
                step=step,
                visitor=visitor,
                channel=StepAction.ON_SITE,
                status=MessageStatus.SENT,
                sent_at=now,
            )
    return journey


def test_the_funnel_counts_each_stage_and_its_conversion(two_step_journey):
    stages = journey_funnel(journey_report(journey=two_step_journey))
    assert [(s.label, s.count) for s in stages] == [
        ("Entered", 10),
        ("Step 1: Show an on-site message after 1 day", 8),
        ("Step 2: Show an on-site message after 2 days", 4),
        ("Converted", 2),
    ]
    assert [s.of_entered for s in stages] == [1.0, 0.8, 0.4, 0.2]
    assert [s.of_previous for s in stages] == [None, 0.8, 0.5, 0.5]


def test_the_funnel_chart_draws_a_bar_per_stage_with_its_figures(two_step_journey):
    svg = str(funnel_svg(journey_funnel(journey_report(journey=two_step_journey))))
    assert svg.startswith("<svg") and svg.count("<rect") == 4
    assert 'aria-label="Journey funnel: visitors at each stage"' in svg
    assert "4 · 40.0 % of entered · 50.0 % of the previous stage" in svg
    assert "Step 2: Show an on-site message after 2 days" in svg


def test_a_journey_nobody_entered_says_so_instead_of_an_empty_chart():
    journey = Journey.objects.create(name="Empty", trigger="event", trigger_event="purchase")
    html = str(funnel_svg(journey_funnel(journey_report(journey=journey))))
    assert "<svg" not in html and "Nobody has entered this journey yet." in html


def test_the_report_page_shows_the_funnel_under_wagtails_header(client, two_step_journey):
    client.force_login(get_user_model().objects.get(username="admin"))
    html = client.get(f"/admin/personalization/journeys/report/{two_step_journey.pk}/").content
    html = html.decode()
    assert 'class="journey-funnel"' in html
    assert "w-slim-header" in html and "w-breadcrumbs" in html
    assert 'href="/admin/personalization/journeys/"' in html  # the "Journeys" crumb
    assert "Converted (purchase within 7 days)" in html


@pytest.mark.parametrize(
    ("amount", "unit", "label"),
    [
        (1, "days", "1 day"),
        (2, "days", "2 days"),
        (0, "hours", "0 hours"),
        (1, "hours", "1 hour"),
        (1, "minutes", "1 minute"),
        (45, "minutes", "45 minutes"),
    ],
)
def test_durations_are_pluralised(amount, unit, label):
    with translation.override("en"):
        assert duration_label(amount, unit) == label


def test_the_attribution_window_reads_1_day_not_1_days(client, two_step_journey):
    two_step_journey.attribution_days = 1
    two_step_journey.save()
    client.force_login(get_user_model().objects.get(username="admin"))
    html = client.get(f"/admin/personalization/journeys/report/{two_step_journey.pk}/")
    html = html.content.decode()
    assert "Converted (purchase within 1 day)" in html
    assert "within 1 days" not in html
