"""The periodic jobs for RQ's cron scheduler, read from `settings.PERIODIC_JOBS`:

    manage.py rqcron personalization.scheduling

rqcron imports this module, which registers every declared job with `rq.cron.register`; the
scheduler then enqueues each on its queue at its interval or cron time, and the RQ workers run
them. Run exactly one rqcron process per deployment (each one enqueues on its own). Jobs whose
function cannot be imported (an app not installed) are skipped with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from rq import cron

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """One entry of `settings.PERIODIC_JOBS`, checked."""

    name: str
    func: Callable
    queue: str
    interval: int | None = None
    cron: str | None = None


def periodic_jobs() -> list[PeriodicJob]:
    """The declared periodic jobs whose functions can be imported."""
    jobs = []
    for spec in settings.PERIODIC_JOBS:
        if spec["queue"] not in settings.RQ_QUEUE_NAMES:
            raise ValueError(f"Periodic job {spec['name']!r}: no RQ queue {spec['queue']!r}.")
        if bool(spec.get("interval")) == bool(spec.get("cron")):
            raise ValueError(f"Periodic job {spec['name']!r}: give an interval or a cron time.")
        try:
            func = import_string(spec["func"])
        except ImportError as exc:
            logger.warning("Periodic job %s skipped: %s", spec["name"], exc)
            continue
        jobs.append(
            PeriodicJob(spec["name"], func, spec["queue"], spec.get("interval"), spec.get("cron"))
        )
    return jobs


def register_periodic_jobs() -> int:
    """Hand every periodic job to rq's cron registry (what `rqcron` loads)."""
    jobs = periodic_jobs()
    for job in jobs:
        cron.register(job.func, job.queue, interval=job.interval, cron=job.cron, name=job.name)
    return len(jobs)


register_periodic_jobs()
