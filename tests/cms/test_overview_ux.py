"""The dashboard's personalization overview and the page listings' marks (issue 18)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cms.models import HomePage, SectionPage
from experiments.models import Experiment, ExperimentStatus
from personalization.journeys.models import Journey, JourneyEntry, JourneyMessage, MessageStatus
from personalization.models import Segment, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def overview(html: str) -> str:
    start = html.index('id="personalization-overview')
    return html[start:]


def test_the_overview_lists_experiments_segments_journeys_pipeline_and_jobs(editor_client):
    experiment = Experiment.objects.exclude(kind="holdout").first()
    experiment.status = ExperimentStatus.RUNNING
    experiment.started_at = timezone.now()
    experiment.save()
    big = Segment.objects.get(slug="big-spenders")
    big.size, big.size_members, big.size_computed_at = 12, 5, timezone.now()
    big.save()
    journey = Journey.objects.first()
    if journey is not None:
        visitor = Visitor.objects.create()
        entry = JourneyEntry.objects.create(
            journey=journey,
            visitor=visitor,
            triggered_at=timezone.now(),
            step_base_at=timezone.now(),
        )
        JourneyMessage.objects.create(
            entry=entry,
            journey=journey,
            visitor=visitor,
            channel="email",
            status=MessageStatus.SENT,
            sent_at=timezone.now(),
        )
    html = overview(editor_client.get("/admin/").content.decode())
    experiments = html[html.index('data-overview="experiments"') :]
    assert experiment.name in experiments[: experiments.index("</table>")]
    assert "Collecting data" in experiments or "Not started" in experiments
    assert "12 (5 members)" in html
    assert "Not counted yet" in html
    if journey is not None:
        assert "1 message sent today" in html and journey.name in html
    assert 'data-overview="pipeline"' in html
    assert "Up to date" in html or "Events are stored by the web process" in html
    assert 'data-overview="jobs"' in html and ("never ran" in html or "last ran" in html)


def test_the_explorer_marks_personalized_pages(editor_client):
    home = HomePage.objects.get()
    html = editor_client.get(f"/admin/pages/{home.get_parent().pk}/").content.decode()
    row = html[html.index(f'id="page_{home.pk}_title"') :]
    row = row[: row.index("</tr>")]
    assert 'data-listing-mark="personalized"' in row


def test_the_explorer_marks_pages_in_an_experiment(editor_client):
    home = HomePage.objects.get()
    section = SectionPage.objects.child_of(home).first()
    Experiment.objects.create(
        key="page-level-test", name="Page test", page=section, status=ExperimentStatus.RUNNING
    )
    html = editor_client.get(f"/admin/pages/{home.pk}/").content.decode()
    row = html[html.index(f'id="page_{section.pk}_title"') :]
    row = row[: row.index("</tr>")]
    assert 'data-listing-mark="experiment"' in row
    others = [p for p in SectionPage.objects.child_of(home) if p.pk != section.pk]
    for other in others:
        other_row = html[html.index(f'id="page_{other.pk}_title"') :]
        assert 'data-listing-mark="experiment"' not in other_row[: other_row.index("</tr>")]
