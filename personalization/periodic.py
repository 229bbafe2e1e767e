"""The periodic jobs of `settings.PERIODIC_JOBS`: when each is due, running one and recording
the run, the in-process scheduler of the embedded default, and their status for the admin.

Whoever runs a periodic job — an RQ worker (enqueued by `rqcron personalization.scheduling`),
the embedded scheduler (`run_periodic_jobs --loop`, which `make run` starts without Redis) or a
one-off `run_periodic_jobs` — runs it through `periodic_job_run(name)`, which records its start,
end and outcome in `PeriodicJobRun`. So the admin shows the same record whatever runs them.

Cron expressions are read in the server's local time zone, as RQ's cron does; an interval job
runs when the scheduler starts, then every `interval` seconds (RQ's rule too).
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from croniter import croniter
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string

from personalization.models import PeriodicJobOutcome, PeriodicJobRun

logger = logging.getLogger(__name__)

DETAIL_LENGTH = 500
OVERDUE_GRACE = datetime.timedelta(minutes=5)  # a run may start this late before it is overdue


@dataclass(frozen=True)
class PeriodicJob:
    """One entry of `settings.PERIODIC_JOBS`, checked."""

    name: str
    func: Callable
    queue: str
    interval: int | None = None
    cron: str | None = None

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """When the job is next due after `moment` (an aware time)."""
        if self.interval:
            return moment + datetime.timedelta(seconds=self.interval)
        return croniter(self.cron, moment.astimezone()).get_next(datetime.datetime)

    def due_since(self, moment: datetime.datetime) -> datetime.datetime:
        """The latest time at or before `moment` the job should have started by."""
        if self.interval:
            return moment - datetime.timedelta(seconds=self.interval)
        return croniter(self.cron, moment.astimezone()).get_prev(datetime.datetime)


def periodic_jobs() -> list[PeriodicJob]:
    """The declared periodic jobs whose functions can be imported."""
    jobs = []
    for spec in settings.PERIODIC_JOBS:
        if spec["queue"] not in settings.RQ_QUEUE_NAMES:
            raise ValueError(f"Periodic job {spec['name']!r}: no RQ queue {spec['queue']!r}.")
        if bool(spec.get("interval")) == bool(spec.get("cron")):
            raise ValueError(f"Periodic job {spec['name']!r}: give an interval or a cron time.")
        if spec.get("cron") and not croniter.is_valid(spec["cron"]):
            raise ValueError(f"Periodic job {spec['name']!r}: {spec['cron']!r} is not a cron time.")
        try:
            func = import_string(spec["func"])
        except ImportError as exc:
            logger.warning("Periodic job %s skipped: %s", spec["name"], exc)
            continue
        jobs.append(
            PeriodicJob(spec["name"], func, spec["queue"], spec.get("interval"), spec.get("cron"))
        )
    return jobs


class UnknownPeriodicJob(LookupError):
    """No periodic job of that name is declared (or its function cannot be imported)."""


def periodic_job(name: str) -> PeriodicJob:
    """The declared periodic job called `name`."""
    for job in periodic_jobs():
        if job.name == name:
            return job
    raise UnknownPeriodicJob(name)


# RUNNING ONE
# ------------------------------------------------------------------------------


def periodic_job_run(name: str) -> Any:
    """Run the periodic job `name` and record its start, end and outcome; returns its result,
    raises what it raised (so RQ marks a failed job failed). What rqcron enqueues."""
    job = periodic_job(name)
    PeriodicJobRun.objects.update_or_create(
        name=name,
        defaults={
            "started_at": timezone.now(),
            "finished_at": None,
            "outcome": PeriodicJobOutcome.RUNNING,
            "detail": "",
        },
    )
    try:
        result = job.func()
    except Exception as exc:
        _finish(name, PeriodicJobOutcome.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _finish(name, PeriodicJobOutcome.SUCCEEDED, repr(result))
    return result


def _finish(name: str, outcome: str, detail: str) -> None:
    finished = timezone.now()
    changes: dict[str, Any] = {
        "finished_at": finished,
        "outcome": outcome,
        "detail": detail[:DETAIL_LENGTH],
    }
    if outcome == PeriodicJobOutcome.SUCCEEDED:
        changes["succeeded_at"] = finished
    PeriodicJobRun.objects.filter(name=name).update(**changes)


# THE EMBEDDED SCHEDULER
# ------------------------------------------------------------------------------


class Scheduler:
    """Runs each periodic job in this process when it is due (no Redis: `make run`).

    Interval jobs are due at once, cron jobs at their next time (as RQ's cron does) — unless
    they missed their last time: a cron job that never ran, or has not started since it was
    last due (`last_started`, from the recorded runs), runs at once, so a machine that was off
    at 03:30 still purges, and a new demo counts its segments without waiting half an hour.

    `now` is the clock (injected by tests); `tick()` runs what is due and says how long to sleep
    until the next job is due."""

    def __init__(
        self,
        jobs: list[PeriodicJob],
        *,
        now: Callable[[], datetime.datetime] = timezone.now,
        run: Callable[[str], Any] = periodic_job_run,
        last_started: dict[str, datetime.datetime] | None = None,
    ) -> None:
        self.now = now
        self.run = run
        self.jobs = {job.name: job for job in jobs}
        started = now()
        last_started = last_started or {}
        self.due = {}
        for job in jobs:
            last = last_started.get(job.name)
            missed = last is None or last < job.due_since(started)
            self.due[job.name] = started if job.interval or missed else job.next_after(started)

    def tick(self) -> float:
        """Run every job that is due now, in declaration order; seconds until the next one."""
        for name, job in self.jobs.items():
            moment = self.now()
            if self.due[name] > moment:
                continue
            try:
                self.run(name)
            except Exception:
                logger.exception("Periodic job %s failed", name)
            finally:
                _release_connections()
            self.due[name] = job.next_after(max(self.due[name], self.now() - _late_limit(job)))
        if not self.due:
            return float("inf")
        return max(0.0, (min(self.due.values()) - self.now()).total_seconds())

    def run_until(self, stop: threading.Event, *, longest_sleep: float = 30.0) -> None:
        """Tick until `stop` is set (checked at least every `longest_sleep` seconds)."""
        while not stop.is_set():
            stop.wait(min(self.tick(), longest_sleep))


def last_started() -> dict[str, datetime.datetime]:
    """When each periodic job last started, from the recorded runs."""
    return dict(PeriodicJobRun.objects.values_list("name", "started_at"))


def _release_connections() -> None:
    """Between jobs, as between requests: drop broken or expired database connections (never
    one a caller's transaction is using)."""
    if not connection.in_atomic_block:
        close_old_connections()


def _late_limit(job: PeriodicJob) -> datetime.timedelta:
    """How far behind an interval job's schedule may fall before missed runs are skipped."""
    return datetime.timedelta(seconds=job.interval or 0)


# STATUS FOR THE ADMIN
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodicJobStatus:
    """A periodic job's schedule, its latest run and whether it is overdue."""

    job: PeriodicJob
    run: PeriodicJobRun | None
    overdue: bool


def periodic_job_statuses(*, now: datetime.datetime | None = None) -> list[PeriodicJobStatus]:
    """Every declared job with its latest run; overdue when it has not started since it was
    last due (plus `OVERDUE_GRACE`), or never ran."""
    now = now or timezone.now()
    runs = {run.name: run for run in PeriodicJobRun.objects.all()}
    statuses = []
    for job in periodic_jobs():
        run = runs.get(job.name)
        due = job.due_since(now - OVERDUE_GRACE)
        statuses.append(PeriodicJobStatus(job, run, run is None or run.started_at < due))
    return statuses
