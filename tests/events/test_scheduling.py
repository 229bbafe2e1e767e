"""Periodic jobs: declared once in settings, loaded by RQ's cron scheduler (`manage.py rqcron
personalization.scheduling`), enqueued on their queues and run by a worker; without Redis run
in-process on their schedule (`manage.py run_periodic_jobs --loop`, started by `make run`) or
once; every run recorded, and the admin dashboard shows the last runs and what is overdue."""

from __future__ import annotations

import datetime
import io
import re
import signal
import threading
import uuid

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_rq.cron import DjangoCronScheduler
from rq import SimpleWorker

from personalization.events.models import Event
from personalization.events.services import event_payload, events_ingest
from personalization.management.commands import run_periodic_jobs
from personalization.models import PeriodicJobOutcome, PeriodicJobRun
from personalization.periodic import PeriodicJob, Scheduler, periodic_job_run
from personalization.scheduling import periodic_jobs
from personalization.templatetags.admin_format import admin_datetime

pytestmark = pytest.mark.django_db
EXPECTED = {
    "events-drain",
    "journeys-evaluate",
    "segment-sizes",
    "experiment-aggregates",
    "experiment-bandits",
    "experiment-guardrails",
    "events-purge",
    "product-pairs",
    "product-imports-sweep",
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


@pytest.mark.parametrize(
    ("old_path", "new_path"),
    [
        ("personalization.jobs.ingest_events", "personalization.events.jobs.ingest_events"),
        ("personalization.jobs.drain_events", "personalization.events.jobs.drain_events"),
        ("personalization.jobs.purge_old_events", "personalization.events.jobs.purge_old_events"),
        (
            "personalization.jobs.evaluate_journeys",
            "personalization.journeys.jobs.evaluate_journeys",
        ),
        ("personalization.jobs.deliver_webhook", "personalization.journeys.jobs.deliver_webhook"),
        (
            "personalization.jobs.snapshot_experiment_aggregates",
            "experiments.jobs.snapshot_daily_aggregates",
        ),
    ],
)
def test_jobs_queued_under_their_old_paths_still_run_after_the_move(old_path, new_path):
    """RQ stores a job's dotted path: jobs queued before the apps split resolve (and an
    operator's PERIODIC_JOBS naming them still works) for one release."""
    from rq.utils import import_attribute

    assert import_attribute(old_path) is import_attribute(new_path)


def test_an_unknown_job_name_under_the_old_module_is_still_an_error():
    import personalization.jobs

    with pytest.raises(AttributeError):
        personalization.jobs.no_such_job  # noqa: B018


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
    recorded = {run.name: run for run in PeriodicJobRun.objects.all()}
    assert recorded["journeys-evaluate"].outcome == PeriodicJobOutcome.SUCCEEDED
    assert recorded["events-drain"].finished_at is not None


# THE EMBEDDED SCHEDULER (no Redis)
# ------------------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime.datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime.datetime:
        return self.moment


def noop() -> None:
    """A job that does nothing."""


def test_the_scheduler_runs_interval_jobs_at_once_then_every_interval_and_cron_jobs_on_time():
    start = datetime.datetime(2026, 3, 2, 10, 14, 50).astimezone()  # server local time
    clock = Clock(start)
    ran: list[tuple[str, datetime.datetime]] = []
    scheduler = Scheduler(
        [
            PeriodicJob("every-minute", noop, "default", interval=60),
            PeriodicJob("half-hourly", noop, "reports", cron="*/30 * * * *"),
        ],
        now=clock,
        run=lambda name: ran.append((name, clock())),
        last_started={"half-hourly": start - datetime.timedelta(minutes=10)},  # ran at 10:00
    )
    sleeps = []
    while clock.moment <= start + datetime.timedelta(minutes=16, seconds=10):
        sleeps.append(scheduler.tick())
        clock.moment += datetime.timedelta(seconds=10)
    minutely = [at for name, at in ran if name == "every-minute"]
    assert minutely == [start + datetime.timedelta(minutes=n) for n in range(17)]
    assert [at for name, at in ran if name == "half-hourly"] == [start.replace(minute=30, second=0)]
    assert sleeps[0] == 60  # the next job due is the interval job, a minute on


def test_a_cron_job_that_missed_its_last_time_runs_when_the_scheduler_starts():
    start = datetime.datetime(2026, 3, 2, 10, 14, 50).astimezone()
    jobs = [
        PeriodicJob("never-ran", noop, "reports", cron="*/30 * * * *"),
        PeriodicJob("missed-10-00", noop, "reports", cron="*/30 * * * *"),
        PeriodicJob("ran-at-10-00", noop, "reports", cron="*/30 * * * *"),
    ]
    ran: list[str] = []
    scheduler = Scheduler(
        jobs,
        now=Clock(start),
        run=ran.append,
        last_started={
            "missed-10-00": start - datetime.timedelta(minutes=45),  # 09:29:50
            "ran-at-10-00": start - datetime.timedelta(minutes=14, seconds=50),  # 10:00:00
        },
    )
    scheduler.tick()
    assert ran == ["never-ran", "missed-10-00"]
    assert scheduler.due["ran-at-10-00"] == start.replace(minute=30, second=0)
    assert scheduler.due["never-ran"] == start.replace(minute=30, second=0)


def test_a_failing_job_is_recorded_and_the_scheduler_keeps_its_schedule(settings):
    settings.PERIODIC_JOBS = [
        {
            "name": "purge",
            "func": "personalization.jobs.purge_old_events",
            "queue": "reports",
            "interval": 60,
        },
    ]
    settings.EVENT_RETENTION_DAYS = "not a number"  # makes the purge job raise
    start = timezone.now()
    clock = Clock(start)
    scheduler = Scheduler(periodic_jobs(), now=clock)
    scheduler.tick()
    run = PeriodicJobRun.objects.get(name="purge")
    assert run.outcome == PeriodicJobOutcome.FAILED
    assert run.finished_at is not None and run.succeeded_at is None
    assert "TypeError" in run.detail
    assert scheduler.due["purge"] == start + datetime.timedelta(seconds=60)


def test_periodic_job_run_records_start_end_and_outcome():
    before = timezone.now()
    assert periodic_job_run("segment-sizes") >= 1
    run = PeriodicJobRun.objects.get(name="segment-sizes")
    assert run.outcome == PeriodicJobOutcome.SUCCEEDED
    assert before <= run.started_at <= run.finished_at == run.succeeded_at


def test_run_periodic_jobs_loop_runs_due_jobs_until_stopped(settings):
    settings.JOBS_INLINE = True
    command = run_periodic_jobs.Command()
    handler = signal.getsignal(signal.SIGTERM)
    threading.Timer(3, command.stop.set).start()  # what its SIGTERM handler does
    out = io.StringIO()
    call_command(command, "--loop", stdout=out)
    assert f"Periodic jobs: {len(EXPECTED)} on their schedule" in out.getvalue()
    recorded = dict(PeriodicJobRun.objects.values_list("name", "outcome"))
    # Interval jobs run at start, and so do cron jobs that never ran.
    assert recorded == dict.fromkeys(EXPECTED, PeriodicJobOutcome.SUCCEEDED)
    assert signal.getsignal(signal.SIGTERM) is handler  # given back


def test_run_periodic_jobs_loop_refuses_when_redis_runs_them(settings):
    settings.JOBS_INLINE = False
    with pytest.raises(CommandError, match="rqcron"):
        call_command("run_periodic_jobs", "--loop")


# THE ADMIN'S VIEW
# ------------------------------------------------------------------------------


def test_the_dashboard_shows_last_runs_and_warns_about_an_overdue_job(client):
    now = timezone.now()
    for job in periodic_jobs():
        started = now - datetime.timedelta(hours=30 if job.name == "segment-sizes" else 0)
        PeriodicJobRun.objects.create(
            name=job.name,
            started_at=started,
            finished_at=started + datetime.timedelta(seconds=2),
            outcome=PeriodicJobOutcome.SUCCEEDED,
        )
    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/admin/").content.decode()
    assert "Periodic jobs" in page
    assert "1 periodic job is overdue." in page
    rows = dict(re.findall(r'data-periodic-job="([^"]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {job.name for job in periodic_jobs()}
    assert "Overdue" in rows["segment-sizes"]
    assert "Overdue" not in rows["journeys-evaluate"]
    assert admin_datetime(now) in rows["journeys-evaluate"]  # the admin's one format
    assert "every 60 seconds" in rows["journeys-evaluate"]
    assert "Succeeded" in rows["journeys-evaluate"] or "succeeded" in rows["journeys-evaluate"]


def test_a_job_that_never_ran_is_overdue_on_the_dashboard(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/admin/").content.decode()
    assert f"{len(EXPECTED)} periodic jobs are overdue." in page
    assert page.count("Never run") == len(EXPECTED)
