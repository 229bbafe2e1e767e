"""The "Background jobs" page of the Wagtail admin: each RQ queue with its job counts and workers,
the failed jobs (requeue or delete each) and when each periodic job last ran.

It replaces django-rq's dashboard in the menu, which is a page of the Django admin (another look,
another navigation). Redis being down is said on the page, not a 500: the periodic jobs' runs
are in the database and still shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import django_rq
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.worker import Worker
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from personalization.admin_header import admin_header
from personalization.periodic import periodic_job_statuses
from personalization.periodic_panel import schedule_label

logger = logging.getLogger(__name__)

FAILED_SHOWN = 50  # per queue, newest first


@dataclass(frozen=True)
class QueueRow:
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int
    finished: int
    workers: int


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    description: str
    ended_at: datetime | None
    error: str


# READING THE QUEUES
# ------------------------------------------------------------------------------


def queue_rows() -> list[QueueRow]:
    """Counts of every queue the settings declare (raises RedisError when Redis is down)."""
    rows = []
    for name in settings.RQ_QUEUE_NAMES:
        queue = django_rq.get_queue(name)
        rows.append(
            QueueRow(
                name=name,
                queued=queue.count,
                started=queue.started_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                deferred=queue.deferred_job_registry.count,
                failed=queue.failed_job_registry.count,
                finished=queue.finished_job_registry.count,
                workers=Worker.count(queue=queue),
            )
        )
    return rows


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def failed_jobs() -> list[FailedJob]:
    """The newest failed jobs of each queue, with the last line of their traceback."""
    found = []
    for name in settings.RQ_QUEUE_NAMES:
        queue = django_rq.get_queue(name)
        ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is None:
                continue
            result = job.latest_result()
            found.append(
                FailedJob(
                    queue=name,
                    id=job.id,
                    description=job.func_name or job.description or job.id,
                    ended_at=job.ended_at,
                    error=_last_line(result.exc_string if result else ""),
                )
            )
    return found


def periodic_rows() -> list[dict]:
    return [
        {"job": s.job, "schedule": schedule_label(s.job), "run": s.run, "overdue": s.overdue}
        for s in periodic_job_statuses()
    ]


# VIEWS
# ------------------------------------------------------------------------------


def _staff_only(request) -> None:
    if not request.user.is_staff:
        raise PermissionDenied


def background_jobs(request):
    """Queues, failed jobs and periodic jobs on one Wagtail admin page."""
    _staff_only(request)
    context = {
        **admin_header(_("Background jobs"), icon="cogs"),
        "inline": settings.JOBS_INLINE,
        "periodic": periodic_rows(),
        "queues": [],
        "failed": [],
        "redis_down": False,
    }
    if not settings.JOBS_INLINE:
        try:
            context["queues"] = queue_rows()
            context["failed"] = failed_jobs()
        except RedisError as exc:
            logger.warning("Background jobs page: Redis is not reachable (%s)", exc)
            context["redis_down"] = True
    return TemplateResponse(request, "personalization/admin/background_jobs.html", context)


def _failed_job_action(request, queue: str, job_id: str, action: str):
    """Requeue or delete one failed job, saying which and how it went."""
    _staff_only(request)
    if queue not in settings.RQ_QUEUE_NAMES:
        raise PermissionDenied
    registry = django_rq.get_queue(queue).failed_job_registry
    try:
        if action == "requeue":
            registry.requeue(job_id)
            messages.success(request, _("Job %(id)s is queued again.") % {"id": job_id})
        else:
            registry.remove(job_id, delete_job=True)
            messages.success(request, _("Job %(id)s is deleted.") % {"id": job_id})
    except (NoSuchJobError, ValueError):
        gone = _("Job %(id)s is no longer among the failed jobs.") % {"id": job_id}
        messages.error(request, gone)
    except RedisError as exc:
        logger.warning("Background jobs: %s of %s failed (%s)", action, job_id, exc)
        messages.error(request, _("Redis is not reachable; try again in a moment."))
    return redirect("background_jobs:index")


@require_POST
def requeue_failed_job(request, queue: str, job_id: str):
    return _failed_job_action(request, queue, job_id, "requeue")


@require_POST
def delete_failed_job(request, queue: str, job_id: str):
    return _failed_job_action(request, queue, job_id, "delete")


# ADMIN REGISTRATION
# ------------------------------------------------------------------------------


class StaffMenuItem(MenuItem):
    """Shown to staff only (the page answers others with 403)."""

    def is_shown(self, request) -> bool:
        return bool(request.user.is_staff)


class BackgroundJobsViewSet(ViewSet):
    """/admin/background-jobs/: the page and its two actions, in the main menu for staff."""

    name = "background_jobs"
    url_prefix = "background-jobs"
    icon = "cogs"
    menu_label = gettext_lazy("Background jobs")
    menu_order = 10_000
    menu_name = "background-jobs"
    menu_item_class = StaffMenuItem
    add_to_admin_menu = True

    def get_urlpatterns(self):
        return [
            path("", background_jobs, name="index"),
            path("failed/<str:queue>/<str:job_id>/requeue/", requeue_failed_job, name="requeue"),
            path("failed/<str:queue>/<str:job_id>/delete/", delete_failed_job, name="delete"),
        ]
