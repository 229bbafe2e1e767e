"""The periodic jobs for RQ's cron scheduler, read from `settings.PERIODIC_JOBS`:

    manage.py rqcron personalization.scheduling

rqcron imports this module, which registers every declared job with `rq.cron.register`; the
scheduler then enqueues each on its queue at its interval or cron time, and the RQ workers run
them — each through `periodic_job_run`, which records the run for the admin (see
`personalization.periodic`). Run exactly one rqcron process per deployment (each one enqueues on
its own). Jobs whose function cannot be imported (an app not installed) are skipped with a
warning. Without Redis, `manage.py run_periodic_jobs --loop` schedules the same jobs in-process.
"""

from __future__ import annotations

from rq import cron

from personalization.periodic import PeriodicJob, periodic_job_run, periodic_jobs

__all__ = ["PeriodicJob", "periodic_jobs", "register_periodic_jobs"]


def register_periodic_jobs() -> int:
    """Hand every periodic job to rq's cron registry (what `rqcron` loads)."""
    jobs = periodic_jobs()
    for job in jobs:
        cron.register(
            periodic_job_run,
            job.queue,
            args=(job.name,),
            interval=job.interval,
            cron=job.cron,
            name=job.name,
        )
    return len(jobs)


register_periodic_jobs()
