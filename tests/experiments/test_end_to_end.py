"""The demo experiment through the site: a visitor sees one hero consistently, signs up (the
goal), and the report shows the exposure and conversion in their variant and segment."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from experiments.jobs import snapshot_aggregates
from experiments.models import Assignment, Conversion, Experiment, Exposure
from personalization.models import Segment

pytestmark = pytest.mark.django_db
HEROES = {
    "control": "Everything your pet loves, picked for you",
    "member-benefits": "Food, care and play your pet will love",
}


def hero(html: str) -> str:
    return next(name for name, title in HEROES.items() if f"<h1>{title}</h1>" in html)


def test_visitor_sees_one_variant_signs_up_and_the_report_counts_it(client, run_jobs):
    with run_jobs():
        first = hero(client.get("/?utm_source=newsletter").content.decode())
        seen = {hero(client.get("/").content.decode()) for _ in range(4)}
    assert seen == {first}  # consistent on every visit
    experiment = Experiment.objects.get(key="home-hero")
    exposure = Exposure.objects.get(experiment=experiment)
    assert exposure.variant.name == first
    newsletter = Segment.objects.get(slug="newsletter-readers")
    assert newsletter.pk in exposure.segment_ids

    with run_jobs():
        response = client.post(
            "/account/signup/",
            {
                "name": "Nao",
                "email": "nao@example.com",
                "password1": "walkies-at-dawn-42",
                "password2": "walkies-at-dawn-42",
            },
        )
    assert response.status_code == 302
    member = get_user_model().objects.get(email="nao@example.com")
    conversion = Conversion.objects.get(experiment=experiment, goal__name="Sign-up")
    assert conversion.visitor.user == member
    assert conversion.variant.name == first
    assert hero(client.get("/").content.decode()) == first  # the member keeps the variant

    snapshot_aggregates(experiment.pk)
    client.force_login(get_user_model().objects.get(username="admin"))
    report = client.get(f"/admin/experiments/report/{experiment.pk}/").content.decode()
    row = report.split(f'data-variant="{first}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="exposures">1</td>' in row and '<td class="conversions">1</td>' in row
    segment_section = report.split(f'id="segment-{newsletter.pk}"', 1)[1]
    segment_row = segment_section.split(f'data-variant="{first}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="exposures">1</td>' in segment_row
    assert '<td class="conversions">1</td>' in segment_row
    assert "not enough data" in report  # one visitor: no verdict, and no NaN anywhere
    assert "nan" not in report.lower().replace("nanum", "")


def test_the_assignment_is_stored_once_however_often_the_page_is_served(client, run_jobs):
    with run_jobs():
        for _ in range(5):
            client.get("/")
    assert Assignment.objects.count() == 1
    assert Exposure.objects.count() == 1
