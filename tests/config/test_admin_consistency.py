"""The project's own admin views look like the rest of Wagtail's admin: the slim header with
breadcrumbs (Home › … › the page), never the blue Django admin; "Background jobs" is such a page
(queues, failed jobs with requeue and delete, periodic jobs); and every date-time in the admin is
written by one filter, in the site's time zone and one format."""

from __future__ import annotations

import datetime
import re

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.utils import timezone
from rq import SimpleWorker
from rq.job import Job

from experiments.models import Experiment
from personalization.journeys.models import Journey
from personalization.models import PeriodicJobOutcome, PeriodicJobRun, Segment
from personalization.templatetags.admin_format import admin_datetime

pytestmark = pytest.mark.django_db

# 22:24 UTC on 1 March is 07:24 on 2 March in Tokyo: the segment count, shown both ways.
COUNTED = datetime.datetime(2025, 3, 1, 22, 24, tzinfo=datetime.UTC)


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def breadcrumb_labels(html: str) -> list[str]:
    """The labels of the Wagtail breadcrumbs navigation, in order."""
    nav = re.search(r'<nav[^>]*aria-label="Breadcrumb">(.*?)</nav>', html, re.S)
    assert nav, "no Wagtail breadcrumbs"
    items = re.findall(r"<li\b[^>]*>(.*?)</li>", nav.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def admin_urls() -> dict[str, tuple[str, list[str]]]:
    """Each custom admin view: its URL and the breadcrumbs it must show."""
    segment = Segment.objects.get(slug="dog-people")
    experiment = Experiment.objects.get(key="home-hero")
    journey = Journey.objects.get(name="Cart abandonment")
    return {
        "explain": ("/admin/personalization/explain/", ["Home", "Explain a visitor"]),
        "attributes": ("/admin/personalization/attributes/", ["Home", "Segment attributes"]),
        "segment size": (
            f"/admin/personalization/segments/size/{segment.pk}/",
            ["Home", "Segments", segment.name, f"Size of “{segment.name}”"],
        ),
        "experiment report": (
            f"/admin/experiments/report/{experiment.pk}/",
            ["Home", "Experiments", experiment.name, f"Report: {experiment.name}"],
        ),
        "journey report": (
            f"/admin/personalization/journeys/report/{journey.pk}/",
            ["Home", "Journeys", journey.name, f"Report: {journey.name}"],
        ),
        "background jobs": ("/admin/background-jobs/", ["Home", "Background jobs"]),
    }


@pytest.mark.parametrize(
    "view",
    [
        "explain",
        "attributes",
        "segment size",
        "experiment report",
        "journey report",
        "background jobs",
    ],
)
def test_each_custom_admin_view_has_wagtails_header_and_breadcrumbs(admin_client, view):
    url, crumbs = admin_urls()[view]
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<header class="w-slim-header' in html
    assert breadcrumb_labels(html) == crumbs
    assert '<h1 class="w-sr-only">\n' in html or f">{crumbs[-1]}<" in html
    assert "wagtailadmin/css/core.css" in html  # the Wagtail admin's look
    assert "admin/css/base.css" not in html  # not the Django admin's


# THE BACKGROUND JOBS PAGE
# ------------------------------------------------------------------------------


def broken_job() -> None:
    """A job that fails, as the failed-jobs table needs one."""
    raise RuntimeError("the printer is on fire")


@pytest.fixture
def failed_job(django_capture_on_commit_callbacks):
    """A real failed job on the real `default` queue (run by a real RQ worker)."""
    queue = django_rq.get_queue("default")
    queue.empty()
    for job_id in queue.failed_job_registry.get_job_ids():
        queue.failed_job_registry.remove(job_id, delete_job=True)
    with django_capture_on_commit_callbacks(execute=True):  # django-rq's on_db_commit mode
        queue.enqueue(broken_job)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.failed_job_registry.count == 1
    job = Job.fetch(queue.failed_job_registry.get_job_ids()[0], connection=queue.connection)
    yield job
    queue.empty()
    for job_id in queue.failed_job_registry.get_job_ids():
        queue.failed_job_registry.remove(job_id, delete_job=True)


needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)")


@needs_redis
def test_the_page_lists_queues_and_the_failed_job(admin_client, failed_job):
    html = admin_client.get("/admin/background-jobs/").content.decode()
    row = re.search(r'<tr data-queue="default">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>(?:<strong>)?(\w+)", row)[:6] == ["default", "0", "0", "0", "0", "1"]
    assert f'data-failed-job="{failed_job.id}"' in html
    assert "RuntimeError: the printer is on fire" in html
    assert "test_admin_consistency.broken_job" in html


@needs_redis
def test_requeue_puts_the_failed_job_back_on_its_queue(admin_client, failed_job):
    queue = django_rq.get_queue("default")
    response = admin_client.post(f"/admin/background-jobs/failed/default/{failed_job.id}/requeue/")
    assert response.status_code == 302
    assert queue.failed_job_registry.count == 0
    assert queue.job_ids == [failed_job.id]
    page = admin_client.get(response.url).content.decode()
    assert f"Job {failed_job.id} is queued again." in page
    assert f'data-failed-job="{failed_job.id}"' not in page


@needs_redis
def test_delete_removes_the_failed_job(admin_client, failed_job):
    queue = django_rq.get_queue("default")
    admin_client.post(f"/admin/background-jobs/failed/default/{failed_job.id}/delete/")
    assert queue.failed_job_registry.count == 0 and queue.count == 0
    assert not queue.connection.exists(failed_job.key)


def test_without_redis_the_page_says_jobs_run_inline(admin_client, settings):
    settings.JOBS_INLINE = True
    html = admin_client.get("/admin/background-jobs/").content.decode()
    assert "No Redis is configured" in html
    assert "data-periodic-jobs" in html


def test_an_unreachable_redis_is_said_on_the_page(admin_client, settings):
    settings.JOBS_INLINE = False
    settings.RQ_QUEUES = {
        name: {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 60}
        for name in settings.RQ_QUEUE_NAMES
    }
    response = admin_client.get("/admin/background-jobs/")
    assert response.status_code == 200
    assert "Redis is not reachable" in response.content.decode()


def test_the_page_shows_each_periodic_jobs_last_run_in_the_site_time_zone(admin_client):
    PeriodicJobRun.objects.update_or_create(
        name=settings.PERIODIC_JOBS[0]["name"],
        defaults={
            "started_at": COUNTED,
            "finished_at": COUNTED + datetime.timedelta(seconds=5),
            "outcome": PeriodicJobOutcome.SUCCEEDED,
        },
    )
    html = admin_client.get("/admin/background-jobs/").content.decode()
    row = re.search(
        rf'<tr data-periodic-job="{settings.PERIODIC_JOBS[0]["name"]}">(.*?)</tr>', html, re.S
    ).group(1)
    assert "2 Mar 2025, 07:24" in row and "22:24" not in row


# ONE DATE-TIME FORMAT IN THE SITE'S TIME ZONE
# ------------------------------------------------------------------------------


def test_the_filter_writes_the_site_time_zone_in_one_format():
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert admin_datetime(COUNTED) == "2 Mar 2025, 07:24"
    assert admin_datetime("2025-03-01T22:24:00+00:00") == "2 Mar 2025, 07:24"
    assert admin_datetime(None) == "" and admin_datetime("") == ""
    rendered = Template("{% load admin_format %}{{ when|admin_datetime }}").render(
        Context({"when": COUNTED})
    )
    assert rendered == "2 Mar 2025, 07:24"


def test_the_segment_size_page_shows_the_count_time_in_the_site_time_zone(admin_client):
    segment = Segment.objects.get(slug="dog-people")
    Segment.objects.filter(pk=segment.pk).update(size=5, size_members=3, size_computed_at=COUNTED)
    html = admin_client.get(f"/admin/personalization/segments/size/{segment.pk}/").content.decode()
    assert "counted 2 Mar 2025, 07:24" in html
    assert "22:24" not in html


def test_the_segments_list_shows_the_count_time_in_the_same_format(admin_client):
    Segment.objects.filter(slug="dog-people").update(
        size=5, size_members=3, size_computed_at=COUNTED
    )
    html = admin_client.get("/admin/personalization/segments/").content.decode()
    assert "5 (3 members) · 2 Mar 2025, 07:24" in html
    assert "22:24" not in html


def test_no_project_admin_template_formats_a_date_itself():
    """Every project admin template writes times through `admin_datetime`, none with `|date`."""
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    templates = [
        *root.glob("personalization/**/templates/**/admin/**/*.html"),
        *root.glob("personalization/templates/personalization/admin/*.html"),
        *root.glob("experiments/templates/experiments/admin/**/*.html"),
    ]
    assert templates
    offenders = [
        str(path.relative_to(root))
        for path in templates
        if re.search(r"\|\s*date\b|\|\s*time\b", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE
