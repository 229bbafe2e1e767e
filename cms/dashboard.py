"""The admin dashboard's "Personalization overview": what is running and whether the machinery
keeps up — running experiments with their verdict, segments with their sizes, journey messages
sent today, the event pipeline's lag and when each periodic job last ran.

It reads across the apps (experiments, segments, journeys, events, jobs), so it lives in the
top layer; every figure comes from a selector of its app.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from wagtail.admin.ui.components import Component

from experiments.models import Experiment, ExperimentStatus
from experiments.selectors import experiment_report
from personalization.events import ingest
from personalization.journeys.models import JourneyMessage, MessageStatus
from personalization.models import Segment
from personalization.periodic import periodic_job_statuses

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineLag:
    """How far the event pipeline is behind: entries waiting and the oldest one's age."""

    mode: str  # "queue", "in_process" or "unreachable"
    waiting: int = 0
    dead_letters: int = 0
    oldest_age: datetime.timedelta | None = None


def running_experiments() -> list[dict]:
    """Each running experiment with its report's verdict headline."""
    rows = []
    running = Experiment.objects.filter(status=ExperimentStatus.RUNNING).order_by("name")
    for experiment in running:
        verdict = experiment_report(experiment=experiment)["verdict"]
        rows.append(
            {
                "experiment": experiment,
                "headline": verdict["headline"],
                "state": verdict["state"],
                "conclusive": verdict["conclusive"],
            }
        )
    return rows


def segment_sizes() -> list[Segment]:
    """Enabled segments, highest priority first, with their last count."""
    return list(Segment.objects.filter(enabled=True).order_by("-priority", "name"))


def journeys_sent_today() -> list[dict]:
    """Messages sent today (site time zone) per journey."""
    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    sent = JourneyMessage.objects.filter(status=MessageStatus.SENT, sent_at__gte=start)
    return list(sent.values("journey__name").annotate(count=Count("id")).order_by("-count"))


def pipeline_lag() -> PipelineLag:
    """The queue's backlog and the age of its oldest entry (entries are deleted once stored,
    so the oldest left is the oldest not yet stored)."""
    if not settings.REDIS_URL:
        return PipelineLag("in_process")
    try:
        backlog = ingest.backlog()
        client = ingest.redis_client()
        stream, _flag, _dead = ingest.stream_keys()
        oldest = client.xrange(stream, count=1)
    except RedisError as exc:
        logger.warning("Dashboard: the event queue cannot be read: %s", exc)
        return PipelineLag("unreachable")
    age = None
    if oldest:
        entry_id = oldest[0][0]
        entry_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        millis = int(entry_id.split("-")[0])
        added = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)
        age = max(timezone.now() - added, datetime.timedelta(0))
    waiting = backlog["waiting"] + backlog["in_progress"]
    return PipelineLag("queue", waiting, backlog["dead_letters"], age)


def lag_label(lag: PipelineLag) -> str:
    if lag.mode == "in_process":
        return _("Events are stored by the web process itself (no queue without Redis).")
    if lag.mode == "unreachable":
        return _("The event queue cannot be reached: events are stored in the request.")
    if not lag.waiting or lag.oldest_age is None:
        return _("Up to date: no event is waiting.")
    return _("%(count)s events waiting; the oldest for %(seconds)s s.") % {
        "count": lag.waiting,
        "seconds": int(lag.oldest_age.total_seconds()),
    }


class OverviewPanel(Component):
    """The dashboard's personalization overview (see the module docstring)."""

    name = "personalization_overview"
    template_name = "cms/admin/overview_panel.html"
    order = 90

    def get_context_data(self, parent_context: Mapping[str, Any]) -> Mapping[str, Any]:
        lag = pipeline_lag()
        journeys = journeys_sent_today()
        return {
            "experiments": running_experiments(),
            "segments": segment_sizes(),
            "journeys": journeys,
            "journeys_total": sum(row["count"] for row in journeys),
            "lag": lag,
            "lag_label": lag_label(lag),
            "jobs": periodic_job_statuses(),
        }
