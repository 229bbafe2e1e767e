"""Run the periodic jobs once, inline: for the embedded set-up without Redis (call it from
the system's cron), or to run one job now (`--only journeys-evaluate`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run every job of settings.PERIODIC_JOBS once, in this process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--only", action="append", default=[], help="Run only this job.")

    def handle(self, *args, only: list[str], **options) -> None:
        from personalization.scheduling import periodic_jobs

        jobs = periodic_jobs()
        unknown = set(only) - {job.name for job in jobs}
        if unknown:
            raise CommandError(f"No periodic job named {', '.join(sorted(unknown))}.")
        for job in jobs:
            if only and job.name not in only:
                continue
            result = job.func()
            self.stdout.write(f"{job.name}: {result}")
