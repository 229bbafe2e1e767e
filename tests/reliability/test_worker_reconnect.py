"""RQ workers outlive a Redis restart: a real `manage.py rqworker` (the command of the Makefile
and the operator guide) against a private `redis-server` that is killed and started again on the
same port; the same worker process then runs the next job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rq import Queue, Worker
from rq.job import Job, JobStatus

# Run last, in one process (`make test`'s serial phase): on the embedded default (SQLite) the
# parallel phase twice saw neither this worker registered nor its job run, though the worker's
# log shows it listening on the same server — while passing alone, in the reliability tests run
# in parallel, and always on PostgreSQL. Cause not found yet (see the stop note of 2026-12-01).
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
WORKER_COMMAND = [
    *("manage.py", "rqworker", "default", "events", "reports"),
    *("--with-scheduler", "--job-class", "config.rq_job.Job"),
]


@contextmanager
def rqworker(redis_url: str, log: Path) -> Iterator[subprocess.Popen]:
    """`manage.py rqworker` on `redis_url` in its own process group, stopped afterwards."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": redis_url}
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, *WORKER_COMMAND],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until(condition, timeout: float, what: str, log: Path) -> None:
    """Poll `condition` until true; fail with the worker's log when it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f} s; worker log:\n{log.read_text()[-3000:]}")


def registered_pids(server) -> set[int]:
    """The pids of the workers registered in Redis (what the RQ dashboard lists)."""
    return {worker.pid for worker in Worker.all(connection=server.client())}


def ran_in(job: Job) -> int | None:
    """The parent pid the job's work horse returned (the worker process), once it finished."""
    if job.get_status(refresh=True) != JobStatus.FINISHED:
        return None
    return job.return_value()


def run_getppid(server, log: Path) -> int:
    """Enqueue `os.getppid` and return the worker pid that ran it."""
    job = Queue("default", connection=server.client()).enqueue("os.getppid")
    wait_until(lambda: ran_in(job) is not None, 40, "the job was not run", log)
    return ran_in(job)


def test_worker_reconnects_after_redis_is_killed_while_a_job_ends(private_redis, tmp_path):
    log = tmp_path / "worker.log"
    with rqworker(private_redis.url, log) as worker:
        wait_until(lambda: worker.pid in registered_pids(private_redis), 60, "no worker", log)
        queue = Queue("default", connection=private_redis.client())
        job = queue.enqueue("time.sleep", 2)
        started = lambda: job.get_status(refresh=True) == JobStatus.STARTED  # noqa: E731
        wait_until(started, 20, "the job did not start", log)

        private_redis.kill()  # the job ends while Redis is away
        time.sleep(4)
        assert worker.poll() is None, log.read_text()[-3000:]
        private_redis.start()

        assert run_getppid(private_redis, log) == worker.pid
        assert worker.poll() is None
        # Redis came back empty (no persistence): the worker is listed on the dashboard again.
        wait_until(lambda: worker.pid in registered_pids(private_redis), 20, "not listed", log)


def test_worker_started_while_redis_is_down_waits_for_it(private_redis, tmp_path):
    log = tmp_path / "worker.log"
    private_redis.stop()
    with rqworker(private_redis.url, log) as worker:
        tried = lambda: worker.poll() is not None or log.read_text().count("Redis") >= 2  # noqa: E731
        wait_until(tried, 60, "the worker never tried Redis", log)
        time.sleep(2)
        assert worker.poll() is None, log.read_text()[-3000:]
        private_redis.start()

        assert run_getppid(private_redis, log) == worker.pid
