"""Background jobs: inline without Redis, and a real RQ worker against Redis when configured."""

from __future__ import annotations

import django_rq
import pytest
from django.conf import settings
from rq import SimpleWorker
from wagtail.images import get_image_model

from cms.jobs import WARM_RENDITION_SPECS, warm_renditions
from config.jobs import UnknownQueue, enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def image():
    image = get_image_model().objects.filter(title__startswith="Demo:").first()
    image.renditions.all().delete()
    return image


def test_without_redis_jobs_run_inline_after_commit(
    settings, image, django_capture_on_commit_callbacks
):
    settings.JOBS_INLINE = True
    with django_capture_on_commit_callbacks(execute=True):
        enqueue("default", warm_renditions, image.pk)
        assert image.renditions.count() == 0  # nothing runs before the commit
    assert image.renditions.count() == len(WARM_RENDITION_SPECS)


def test_unknown_queue_is_refused():
    with pytest.raises(UnknownQueue):
        enqueue("nonexistent", warm_renditions, 1)


def test_job_for_a_deleted_image_does_nothing():
    assert warm_renditions(10**9) == 0


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (set by .ci/run)")
def test_real_rq_worker_executes_an_enqueued_job(image, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue("default")
    queue.empty()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue("default", warm_renditions, image.pk)
    assert queue.count == 1
    assert image.renditions.count() == 0  # queued, not run
    worker = SimpleWorker([queue], connection=queue.connection)
    assert worker.work(burst=True) is True
    assert queue.count == 0
    assert image.renditions.count() == len(WARM_RENDITION_SPECS)
