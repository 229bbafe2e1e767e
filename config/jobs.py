"""One way to hand work to the background: `enqueue(queue, func, *args, **kwargs)`.

`func` is the job function or its dotted path ("personalization.events.jobs.drain_events"):
a module that the job module imports names its job by path, so no two modules import each
other. RQ stores the path either way, so a queued job runs wherever its module is then.

With REDIS_URL set the job goes to the named RQ queue (once the current transaction commits,
django-rq's `on_db_commit` mode); when Redis does not answer, the same job function runs inline
after the commit, and the outage is logged, so no work is ever dropped. Without Redis (the
embedded default) the job goes, after the commit, to the process's embedded writer thread
(`config.embedded`), off the request path; `JOBS_INLINE_MODE = "immediate"` runs it in the
caller instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from redis.exceptions import RedisError

from config import embedded
from config.cache import redis_outage

logger = logging.getLogger(__name__)


class UnknownQueue(ValueError):
    """A job was sent to a queue the settings do not declare."""


Job = Callable[..., Any] | str


def _callable(func: Job) -> Callable[..., Any]:
    return import_string(func) if isinstance(func, str) else func


def enqueue(queue: str, func: Job, *args: Any, **kwargs: Any) -> None:
    """Run `func(*args, **kwargs)` on the `queue` RQ queue, or embedded when there is no Redis."""
    if queue not in settings.RQ_QUEUE_NAMES:
        raise UnknownQueue(f"No RQ queue named {queue!r}; known: {settings.RQ_QUEUE_NAMES}.")
    if settings.JOBS_INLINE:
        transaction.on_commit(lambda: embedded.run(_callable(func), args, kwargs))
        return
    transaction.on_commit(lambda: _enqueue_or_run(queue, func, args, kwargs))


def _enqueue_or_run(queue: str, func: Job, args: tuple, kwargs: dict) -> None:
    """Queue the job, or run it here when its Redis failed now or a moment ago (skipped then)."""
    outage = redis_outage(settings.RQ_QUEUES[queue]["URL"])
    if outage.available():
        try:
            django_rq.get_queue(queue).enqueue(func, *args, **kwargs)
        except RedisError as exc:
            outage.failed(exc, action="running jobs inline")
        else:
            outage.succeeded()
            return
    func = _callable(func)
    logger.info("Redis unavailable: running %s inline", func.__qualname__)
    func(*args, **kwargs)
