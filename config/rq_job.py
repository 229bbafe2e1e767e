"""The RQ job class of our workers (`rqworker --job-class config.rq_job.Job`): one worker fleet
runs both Wagtail's django-tasks tasks (through django-tasks-rq's job class) and the plain RQ jobs
of `config.jobs.enqueue`, the event pipeline and the periodic jobs — django-tasks-rq's own class
refuses any job whose function is not a Task."""

from __future__ import annotations

from typing import Any

from django_tasks_rq.backend import Job as TaskJob
from django_tasks_rq.compat import TASK_CLASSES
from rq.job import Job as PlainJob


class Job(TaskJob):
    """A django-tasks task runs as django-tasks-rq runs it; any other function as plain RQ."""

    def _is_task(self) -> bool:
        return isinstance(PlainJob.func.fget(self), TASK_CLASSES)

    @property
    def func(self) -> Any:
        return TaskJob.func.fget(self) if self._is_task() else PlainJob.func.fget(self)

    def perform(self) -> Any:
        return super().perform() if self._is_task() else PlainJob.perform(self)

    def _execute(self) -> Any:
        return super()._execute() if self._is_task() else PlainJob._execute(self)
