"""Wagtail's background tasks (django-tasks) on RQ, run inline when the queue cannot be reached:
a page publish or an image upload must not fail because Redis is down."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.conf import settings
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task, TaskResult
from django_tasks_rq import RQBackend
from redis.exceptions import RedisError

from config.cache import redis_outage

logger = logging.getLogger(__name__)


class ResilientRQBackend(RQBackend):
    """`django_tasks_rq.RQBackend` whose enqueue runs the task at once when Redis fails."""

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self._inline = ImmediateBackend(alias, params)

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        """Queue the task on RQ; if its Redis is unreachable, run it now (logged)."""
        outage = redis_outage(settings.RQ_QUEUES[task.queue_name]["URL"])
        if outage.available():
            try:
                result = super().enqueue(task, args, kwargs)
            except RedisError as exc:
                outage.failed(exc, action="running background tasks inline")
            else:
                outage.succeeded()
                return result
        self.validate_task(task)
        logger.info("Redis unavailable: running task %s inline", task.module_path)
        # Run now even if it was deferred: early is better than never.
        return self._inline.enqueue(dataclasses.replace(task, run_after=None), args, kwargs)
