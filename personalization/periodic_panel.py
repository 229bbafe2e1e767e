"""The admin dashboard panel showing when each periodic job last ran, and which are overdue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.admin.ui.components import Component

from personalization.periodic import PeriodicJob, periodic_job_statuses


def schedule_label(job: PeriodicJob) -> str:
    """'every 60 seconds' or 'cron */30 * * * *' (server time)."""
    if job.interval:
        return ngettext("every %(count)d second", "every %(count)d seconds", job.interval) % {
            "count": job.interval
        }
    return _("cron %(expression)s (server time)") % {"expression": job.cron}


class PeriodicJobsPanel(Component):
    """Each periodic job's schedule, latest run and outcome, with a warning when overdue."""

    name = "periodic_jobs"
    template_name = "personalization/admin/periodic_jobs_panel.html"
    order = 160

    def get_context_data(self, parent_context: Mapping[str, Any]) -> Mapping[str, Any]:
        statuses = periodic_job_statuses()
        rows = [
            {"job": s.job, "schedule": schedule_label(s.job), "run": s.run, "overdue": s.overdue}
            for s in statuses
        ]
        return {"rows": rows, "overdue": sum(s.overdue for s in statuses)}
