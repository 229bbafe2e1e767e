"""The RQ worker class of our workers (settings `RQ["WORKER_CLASS"]`, so every `manage.py
rqworker` uses it): RQ's forking worker, except that losing Redis makes it wait and reconnect
instead of exiting.

RQ 3.0 retries a lost connection only inside its blocking dequeue. Every other Redis call of the
work loop — the state and heartbeat writes around a job, the suspension check, the registry
clean-up — raises `ConnectionError` into `Worker.work`, whose catch-all logs "found an unhandled
exception, quitting..." and returns; django-rq's `rqworker` then exits (and exits at once when
Redis is down at start). A worker whose job ended while Redis was away therefore stopped for good.
Here each of those calls waits for Redis with a capped exponential backoff, logged, and the
worker registers itself again when Redis came back empty (restarted without persistence).
"""

from __future__ import annotations

import time
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker as RQWorker
from rq import worker_registration
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus

REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)


class Worker(RQWorker):
    """RQ's worker that outlives a Redis outage: it waits for Redis and carries on."""

    # RQ's own dequeue backoff doubles from 1 s; capped here so that a worker resumes within
    # 10 s of Redis coming back (RQ's default cap is a minute).
    max_connection_wait_time = 10.0

    def _set_ip_address(self, connection: Redis) -> None:
        """A worker started while Redis is down waits for it instead of exiting."""
        self._wait_for_redis(connection)
        super()._set_ip_address(connection)

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's suspension check, retried once Redis is back."""
        self._retrying(super().check_for_suspension, burst)

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up, retried once Redis is back."""
        self._retrying(super().run_maintenance_tasks)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        """RQ's state write; on its own (not in a pipeline) retried once Redis is back."""
        if pipeline is not None:
            super().set_state(state, pipeline=pipeline)
            return
        self._retrying(super().set_state, state)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat; on its own (not in a pipeline) retried once Redis is back."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        self._retrying(super().heartbeat, timeout)

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        """The heartbeats sent while a job runs; a missed one is logged, the job keeps running."""
        try:
            super().maintain_heartbeats(job, execution)
        except REDIS_AWAY as exc:
            self.log.warning(
                "Worker %s: Redis is unreachable (%s); job %s keeps running", self.name, exc, job.id
            )

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run the job in a work horse; when Redis went away around it, wait for Redis and go on
        with the next job (RQ's registry clean-up fails a job whose end it could not record)."""
        try:
            super().execute_job(job, queue)
        except REDIS_AWAY as exc:
            if self.horse_pid:  # never leave a running horse behind
                self.wait_for_horse()
                self._horse_pid = 0
            self.log.warning(
                "Worker %s: Redis went away around job %s (%s); its end may not be recorded",
                self.name,
                job.id,
                exc,
            )
            self._wait_for_redis(self.connection)
            self.set_state(WorkerStatus.IDLE)

    def teardown(self) -> None:
        """RQ's stop bookkeeping; with Redis away the worker still stops (its key expires)."""
        try:
            super().teardown()
        except REDIS_AWAY as exc:
            self.log.warning("Worker %s: stopped without telling Redis (%s)", self.name, exc)

    def _pubsub_exception_handler(self, exc: Exception, pubsub: Any, pubsub_thread: Any) -> None:
        """The command channel's thread retries a timeout as RQ retries a refused connection."""
        if isinstance(exc, RedisTimeoutError):
            exc = RedisConnectionError(str(exc))
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    def _retrying(self, call: Any, *args: Any) -> Any:
        """`call(*args)`, again after each wait for Redis, until Redis answers it."""
        while True:
            try:
                return call(*args)
            except REDIS_AWAY:
                self._wait_for_redis(self.connection)

    def _wait_for_redis(self, connection: Redis) -> None:
        """Return once Redis answers, waiting 1, 2, 4 … (at most `max_connection_wait_time`)
        seconds between tries; a stop request ends the wait."""
        delay, lost = 1.0, False
        while True:
            if self._stop_requested:
                raise StopRequested()
            try:
                connection.ping()
                if lost:
                    self._rejoin(connection)
                return
            except REDIS_AWAY as exc:
                lost = True
                message = "Worker %s: Redis is unreachable (%s); retrying in %.0f s"
                self.log.error(message, self.name, exc, delay)
            time.sleep(delay)
            delay = min(delay * self.exponential_backoff_factor, self.max_connection_wait_time)

    def _rejoin(self, connection: Redis) -> None:
        """After an outage: register again if Redis lost the worker's key (a restart without
        persistence), and restart the scheduler process, which exits when Redis goes away."""
        self.log.info("Worker %s: Redis is reachable again", self.name)
        if self.birth_date is not None and not connection.exists(self.key):
            with connection.pipeline() as pipeline:
                pipeline.hset(self.key, mapping={**self.serialize(), "state": self.get_state()})
                worker_registration.register(self, pipeline)
                pipeline.expire(self.key, self.worker_ttl + 60)
                pipeline.execute()
        scheduler = self.scheduler
        if scheduler is not None and not (scheduler._process and scheduler._process.is_alive()):
            scheduler.acquire_locks(auto_start=True)
