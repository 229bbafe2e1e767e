"""The embedded job backend: without Redis, one writer thread per process runs the jobs after
the response, joins batches, isolates a failing job and runs what is queued before exit."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from config import embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def thread_mode(settings):
    settings.JOBS_INLINE_MODE = "thread"


@pytest.fixture
def writer():
    """A private writer (the process's own one is shared by every test)."""
    started = embedded.Writer(100)
    yield started
    started.stop(timeout=5)


def held(writer: embedded.Writer) -> threading.Event:
    """Keep `writer` busy until the returned event is set, so later jobs queue up together."""
    release = threading.Event()
    writer.submit(embedded.Job(release.wait))
    return release


def test_a_job_runs_in_the_writer_thread_not_in_the_caller(thread_mode):
    ran_in = []
    embedded.run(lambda: ran_in.append(threading.current_thread().name))
    assert embedded.flush(timeout=10)
    assert ran_in == ["embedded-writer"]


def test_immediate_mode_runs_the_job_in_the_caller(settings):
    settings.JOBS_INLINE_MODE = "immediate"
    ran_in = []
    embedded.run(lambda: ran_in.append(threading.current_thread().name))
    assert ran_in == [threading.current_thread().name]


def test_queued_batch_jobs_of_one_function_run_as_one_call(writer):
    calls = []
    release = held(writer)
    for n in range(3):
        writer.submit(embedded.Job(calls.append, ([n, n + 10],), batch=True))
    writer.submit(embedded.Job(calls.append, (["alone"],)))
    release.set()
    assert writer.flush(timeout=10)
    assert calls == [[0, 10, 1, 11, 2, 12], ["alone"]]


def test_a_failing_joined_call_is_run_again_job_by_job(writer, caplog):
    stored = []

    def store(items: list) -> None:
        if "bad" in items:
            raise ValueError("bad item")
        stored.extend(items)

    release = held(writer)
    for items in (["a"], ["bad"], ["b", "c"]):
        writer.submit(embedded.Job(store, (items,), batch=True))
    with caplog.at_level(logging.ERROR, logger="config.embedded"):
        release.set()
        assert writer.flush(timeout=10)
    assert stored == ["a", "b", "c"]
    assert "Embedded job" in caplog.text and "bad" in caplog.text


def test_stopping_runs_every_queued_job_and_later_jobs_are_refused(writer):
    ran = []
    release = held(writer)
    for n in range(5):
        writer.submit(embedded.Job(ran.append, (n,)))
    threading.Timer(0.2, release.set).start()
    assert writer.stop(timeout=10)
    assert ran == [0, 1, 2, 3, 4]
    assert writer.submit(embedded.Job(ran.append, (5,))) is False


EXIT_PROBE = """
import time, django
django.setup()
from config import embedded

def slow_write(line):
    time.sleep(0.05)
    with open({path!r}, "a") as out:
        out.write(line + "\\n")

for n in range(20):
    embedded.run(slow_write, (str(n),))
print("queued")
"""


def test_a_process_that_exits_runs_what_is_still_queued_first(tmp_path):
    """A clean exit (end of a command, SIGTERM to a gunicorn worker) drains the queue."""
    path = tmp_path / "written.txt"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "JOBS_INLINE_MODE"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL="sqlite:///:memory:")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", EXIT_PROBE.format(path=str(path))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "queued"
    assert path.read_text().split() == [str(n) for n in range(20)]
