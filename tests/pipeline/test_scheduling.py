"""Periodic jobs: declared once in settings, loaded by RQ's cron scheduler (`manage.py rqcron
personalization.scheduling`), enqueued on their queues and run by a worker; and runnable inline
with `manage.py run_periodic_jobs` where there is no Redis."""

from __future__ import annotations

import datetime
import io
import uuid

import django_rq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_rq.cron import DjangoCronScheduler
from rq import SimpleWorker

from personalization.jobs import snapshot_experiment_aggregates
from personalization.models import Event
from personalization.scheduling import periodic_jobs
from personalization.services import event_payload, events_ingest

pytestmark = pytest.mark.django_db
EXPECTED = {
    "events-drain",
    "journeys-evaluate",
    "segment-sizes",
    "experiment-aggregates",
    "events-purge",
}


def test_every_periodic_job_is_declared_once_in_settings():
    names = [job.name for job in periodic_jobs()]
    assert set(names) == EXPECTED and len(names) == len(set(names))


def test_rqcron_loads_the_schedule_from_settings():
    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("personalization.scheduling")
    registered = {job.name: job for job in scheduler.get_jobs()}
    assert set(registered) == EXPECTED
    assert registered["journeys-evaluate"].interval == 60
    assert registered["events-purge"].cron == "30 3 * * *"
    assert registered["segment-sizes"].queue_name == "reports"


def test_experiment_aggregates_are_skipped_when_the_app_has_no_such_job(settings):
    settings.EXPERIMENT_AGGREGATES_JOB = "experiments.nowhere.snapshot"
    assert snapshot_experiment_aggregates() is None


def test_run_periodic_jobs_runs_the_purge_inline(settings):
    settings.EVENT_RETENTION_DAYS = 30
    old = timezone.now() - datetime.timedelta(days=31)
    events_ingest(payloads=[event_payload(visitor_uuid=uuid.uuid4(), type="goal", occurred_at=old)])
    out = io.StringIO()
    call_command("run_periodic_jobs", "--only", "events-purge", stdout=out)
    assert "events-purge: 1" in out.getvalue()
    assert not Event.objects.filter(occurred_at__lte=old).exists()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)")
def test_the_cron_scheduler_enqueues_the_jobs_and_a_worker_runs_them():
    queues = [django_rq.get_queue(name) for name in settings.RQ_QUEUE_NAMES]
    for queue in queues:
        queue.empty()
    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("personalization.scheduling")
    enqueued = {job.name for job in scheduler.enqueue_jobs()}
    assert {"events-drain", "journeys-evaluate"} <= enqueued  # interval jobs start at once
    SimpleWorker(queues, connection=queues[0].connection).work(burst=True)
    assert sum(q.failed_job_registry.count for q in queues) == 0
