"""The embedded job backend: with no Redis, jobs run in this process, after the response.

`config.jobs.enqueue` (and the event pipeline's `publish`) hand a job to the process's one
writer thread, which runs the jobs in order, one at a time. The request only appends to an
in-process queue, so a page view never waits for SQLite's write lock, and one writer per
process means two processes contend for the lock, not every thread of every request.

Consecutive jobs of one batchable function (`run(..., batch=True)`, one list argument) run as
one call with their lists joined: a burst of page views is one transaction, not hundreds. When
a joined call fails, each job is run again on its own, so one bad job never costs another's.

Nothing is lost on a clean shutdown: the queue is drained at interpreter exit (atexit, which
gunicorn's workers, `runserver` and management commands all reach on SIGTERM or Ctrl-C). A job
still queued when the process is killed (SIGKILL, power loss) is lost: with no Redis there is no
durable queue. A request that finds `EMBEDDED_QUEUE_SIZE` jobs waiting waits for room
(back-pressure); work is never dropped.

`settings.JOBS_INLINE_MODE = "immediate"` runs each job in the caller instead (the tests, where
a job's effect is asserted right after the request).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

logger = logging.getLogger(__name__)

FLUSH_TIMEOUT = 60.0  # seconds a shutdown waits for the queue to drain
MAX_BATCH = 200  # jobs taken from the queue at once


@dataclass
class Job:
    """One queued call."""

    func: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    batch: bool = False


_STOP = object()


class Writer:
    """One thread that runs this process's embedded jobs in order."""

    def __init__(self, size: int) -> None:
        self.jobs: queue.Queue = queue.Queue(maxsize=size)
        self.stopped = False
        self._lock = threading.Lock()  # nothing is queued behind the stop marker
        self.thread = threading.Thread(target=self._run, name="embedded-writer", daemon=True)
        self.thread.start()

    def submit(self, job: Job) -> bool:
        """Queue a job (waits while the queue is full); False once the writer has stopped."""
        with self._lock:
            if self.stopped:
                return False
            self.jobs.put(job)
            return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every job queued so far has run; False if `timeout` passed first."""
        done = threading.Event()
        if not self.submit(Job(done.set)):
            return not self.thread.is_alive()
        return done.wait(timeout)

    def stop(self, timeout: float = FLUSH_TIMEOUT) -> bool:
        """Run what is queued, then end the thread; False if it did not finish in time."""
        with self._lock:
            if not self.stopped:
                self.stopped = True
                self.jobs.put(_STOP)
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            taken = [self.jobs.get()]
            while len(taken) < MAX_BATCH:
                try:
                    taken.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in taken
            for group in _groups([job for job in taken if job is not _STOP]):
                _run_group(group)
            try:
                close_old_connections()  # as after a request: CONN_MAX_AGE, broken connections
            except DatabaseError:
                logger.exception("Embedded writer could not close its database connection")
        connections.close_all()


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Consecutive batchable jobs of one function together, every other job alone."""
    groups: list[list[Job]] = []
    for job in jobs:
        last = groups[-1] if groups else None
        if last and job.batch and last[0].batch and last[0].func == job.func:
            last.append(job)
        else:
            groups.append([job])
    return groups


def _run_group(group: list[Job]) -> None:
    if len(group) > 1:
        joined = [item for job in group for item in job.args[0]]
        try:
            group[0].func(joined)
            return
        except Exception:
            logger.exception("Joined %s failed; running its jobs one by one", _name(group[0]))
    for job in group:
        _run_one(job)


def _run_one(job: Job) -> None:
    try:
        job.func(*job.args, **job.kwargs)
    except Exception:
        logger.exception("Embedded job %s failed: args %.300r", _name(job), job.args)


def _name(job: Job) -> str:
    return getattr(job.func, "__qualname__", repr(job.func))


_writer: Writer | None = None
_writer_pid = 0
_writer_lock = threading.Lock()


def writer() -> Writer:
    """This process's writer, started on first use (after a fork, the child starts its own)."""
    global _writer, _writer_pid
    if _writer is not None and _writer_pid == os.getpid():
        return _writer
    with _writer_lock:
        if _writer is None or _writer_pid != os.getpid():
            _writer = Writer(settings.EMBEDDED_QUEUE_SIZE)
            _writer_pid = os.getpid()
    return _writer


def run(
    func: Callable[..., Any],
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    batch: bool = False,
) -> None:
    """Run `func(*args, **kwargs)` the embedded way: by the writer thread, or here in
    "immediate" mode. `batch=True`: `func` takes one list, and consecutive jobs may run as one
    call with their lists joined."""
    kwargs = kwargs or {}
    if settings.JOBS_INLINE_MODE == "immediate" or not writer().submit(
        Job(func, args, kwargs, batch)
    ):
        func(*args, **kwargs)  # immediate mode, or a job arriving after the exit drain


def flush(timeout: float | None = FLUSH_TIMEOUT) -> bool:
    """Wait until this process's queued jobs have run (True at once when none was queued)."""
    if _writer is None or _writer_pid != os.getpid():
        return True
    return _writer.flush(timeout)


@atexit.register
def _drain_at_exit() -> None:
    """A clean shutdown runs every queued job before the process ends."""
    if _writer is None or _writer_pid != os.getpid():
        return
    if not _writer.stop():
        logger.error(
            "Embedded jobs still queued %.0f s after exit began: %d left unrun",
            FLUSH_TIMEOUT,
            _writer.jobs.qsize(),
        )
