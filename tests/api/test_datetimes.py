"""Every timestamp the API writes is ISO 8601 with the site's offset (Asia/Tokyo: +09:00), never
"Z" in one field and "+09:00" in the next: the test walks the main endpoints' responses and checks
each date-time string it finds."""

from __future__ import annotations

import datetime
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from experiments.models import Experiment, GuardrailAlert
from experiments.services import aggregates_snapshot, exposure_record
from personalization.api.datetimes import api_datetime
from personalization.models import Segment
from personalization.services import segment_size_compute
from tests.api.helpers import api_as

pytestmark = pytest.mark.django_db

ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def datetime_strings(value, where: str = "$") -> list[tuple[str, str]]:
    """(JSON path, string) of every date-time string anywhere in a decoded JSON body."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in datetime_strings(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in datetime_strings(v, f"{where}[{i}]")]
    if isinstance(value, str) and ISO_DATETIME.match(value):
        return [(where, value)]
    return []


def site_offset(moment: datetime.datetime) -> str:
    """ "+09:00": the site time zone's UTC offset at `moment`, as ISO 8601 writes it."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat()[-6:]


def off_site_offset(body, endpoint: str) -> list[str]:
    """ "endpoint path: value" of each timestamp in `body` not written with the site's offset."""
    wrong = []
    for path, text in datetime_strings(body):
        moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is None or not text.endswith(site_offset(moment)):
            wrong.append(f"{endpoint} {path}: {text}")
    return wrong


@pytest.fixture
def busy_experiment():
    """The demo's home-hero experiment with exposures, counted results and a guardrail check,
    so its report carries every kind of timestamp it can."""
    experiment = Experiment.objects.get(key="home-hero")
    for variant in experiment.variants.all():
        exposure_record(
            experiment_id=experiment.pk, variant_id=variant.pk, visitor=str(uuid.uuid4())
        )
    aggregates_snapshot(experiment=experiment)
    goal = experiment.goals.first()
    goal.is_guardrail = True
    goal.save(update_fields=["is_guardrail"])
    GuardrailAlert.objects.create(
        experiment=experiment,
        goal=goal,
        variant=experiment.variants.last(),
        p_value=0.001,
        uplift=-0.2,
        notified_at=datetime.datetime.now(tz=datetime.UTC),
    )
    return experiment


def test_the_helper_writes_the_site_offset():
    moment = datetime.datetime(2025, 3, 1, 22, 24, tzinfo=datetime.UTC)
    assert api_datetime(moment) == "2025-03-02T07:24:00+09:00"
    assert api_datetime(None) is None


@pytest.mark.parametrize("active_zone", [None, "UTC"])
def test_every_timestamp_of_the_main_endpoints_has_the_site_offset(
    staff, busy_experiment, active_zone
):
    """Also with UTC active (as a Wagtail user's time-zone preference activates one), where
    DRF's own DateTimeField wrote "Z"."""
    if active_zone:
        with timezone.override(active_zone):
            walk_main_endpoints(staff, busy_experiment)
    else:
        walk_main_endpoints(staff, busy_experiment)


def walk_main_endpoints(staff, busy_experiment) -> None:
    segment_size_compute(segment_id=Segment.objects.get(slug="dog-people").pk)
    staff_api = api_as(user=staff)
    home = api_as().get("/api/v1/pages/find/", {"path": "/"}).json()
    responses = {
        "GET pages": api_as().get("/api/v1/pages/", {"limit": 100}),
        "GET page": api_as().get(f"/api/v1/pages/{home['id']}/"),
        "GET pages/find": api_as().get("/api/v1/pages/find/", {"path": "/"}),
        "POST visitors": api_as().post("/api/v1/visitors/", {}, format="json"),
        "POST preview-tokens": staff_api.post(
            "/api/v1/preview-tokens/", {"page": home["id"], "segments": []}, format="json"
        ),
        "GET segments": staff_api.get("/api/v1/segments/", {"limit": 100}),
        "GET experiments": staff_api.get("/api/v1/experiments/", {"limit": 100}),
        "GET results": staff_api.get(f"/api/v1/experiments/{busy_experiment.key}/results/"),
        "GET holdouts": staff_api.get("/api/v1/personalization/holdouts/"),
    }
    wrong = []
    for endpoint, response in responses.items():
        assert response.status_code in (200, 201), (endpoint, response.content[:500])
        wrong += off_site_offset(response.json(), endpoint)
    assert wrong == []
    # The walk saw the kinds of timestamp the issue found in two forms: page publication,
    # token expiry, segment counts, experiment start and the results' count time.
    paths = {
        path for response in responses.values() for path, _ in datetime_strings(response.json())
    }
    assert any(p.endswith("last_published_at") for p in paths)
    assert any(p.endswith("expires_at") for p in paths)
    assert any(p.endswith("size_computed_at") for p in paths)
    assert any(p.endswith("experiment.started_at") for p in paths)
    assert any(p == "$.computed_at" for p in paths)
    assert any(p.endswith("alerts[0].detected_at") for p in paths)
    assert len(paths) >= 10
