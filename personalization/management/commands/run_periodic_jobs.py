"""Run the periodic jobs in this process, without Redis: once (`run_periodic_jobs`, or
`--only journeys-evaluate` for one job now), or on their schedule until stopped (`--loop`, what
`make run` starts beside the web server when REDIS_URL is unset). Every run is recorded for the
admin's status panel (see `personalization.periodic`)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from personalization.periodic import Scheduler, last_started, periodic_job_run, periodic_jobs


class Command(BaseCommand):
    help = "Run the jobs of settings.PERIODIC_JOBS in this process: once, or on their schedule."

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stop = threading.Event()  # set by SIGTERM or SIGINT: `--loop` ends

    def add_arguments(self, parser) -> None:
        parser.add_argument("--only", action="append", default=[], help="Run only this job.")
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running each job on its schedule until stopped (SIGTERM or Ctrl-C).",
        )

    def handle(self, *args, only: list[str], loop: bool, **options) -> None:
        jobs = periodic_jobs()
        unknown = set(only) - {job.name for job in jobs}
        if unknown:
            raise CommandError(f"No periodic job named {', '.join(sorted(unknown))}.")
        jobs = [job for job in jobs if not only or job.name in only]
        if loop:
            self.loop(jobs, verbosity=options["verbosity"])
            return
        for job in jobs:
            result = periodic_job_run(job.name)
            self.stdout.write(f"{job.name}: {result}")

    def loop(self, jobs: list, *, verbosity: int) -> None:
        """Run each job when due until SIGTERM or SIGINT; the jobs' own work is then drained."""
        if not settings.JOBS_INLINE:
            raise CommandError(
                "REDIS_URL is set: the periodic jobs are RQ's (manage.py rqcron "
                "personalization.scheduling, and RQ workers); --loop is for the set-up without "
                "Redis."
            )
        previous = {
            signum: signal.signal(signum, lambda *_: self.stop.set())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }

        def run(name: str):
            result = periodic_job_run(name)
            if verbosity >= 2:
                self.stdout.write(f"{name}: {result}")
            return result

        if verbosity >= 1:
            self.stdout.write(f"Periodic jobs: {len(jobs)} on their schedule in this process.")
        try:
            Scheduler(jobs, run=run, last_started=last_started()).run_until(self.stop)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
