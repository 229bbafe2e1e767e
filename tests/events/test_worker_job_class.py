"""The workers' job class runs both kinds of job on one fleet: Wagtail's django-tasks tasks
and plain RQ jobs (the event pipeline's drain) — django-tasks-rq's own class refuses the latter."""

from __future__ import annotations

import django_rq
import pytest
from django.conf import settings
from rq import SimpleWorker
from wagtail.tasks import update_reference_index_task

from config.rq_job import Job
from personalization.events import ingest
from personalization.events.models import Event
from personalization.models import Segment
from tests.events.helpers import page_views

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)"),
]


def test_one_worker_runs_plain_jobs_and_django_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queues = [django_rq.get_queue(name) for name in ("default", "events")]
    for queue in queues:
        queue.empty()
    ingest.publish(page_views(5, prefix="job-class"))
    segment = Segment.objects.create(name="Job class", slug="job-class")
    task = update_reference_index_task.enqueue("personalization", "segment", segment.pk)
    SimpleWorker(queues, connection=queues[0].connection, job_class=Job).work(burst=True)
    assert sum(q.failed_job_registry.count for q in queues) == 0
    assert Event.objects.filter(idempotency_key__startswith="job-class-").count() == 5
    assert update_reference_index_task.get_result(task.id).status == "SUCCESSFUL"
