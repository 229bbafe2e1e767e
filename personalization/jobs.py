"""Jobs of the personalization app. Each takes plain data, loads, and calls a service.

The periodic ones are declared in `settings.PERIODIC_JOBS` (see `personalization.scheduling`).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from personalization import services

logger = logging.getLogger(__name__)


def ingest_events(payloads: list[dict]) -> int:
    """Store tracked events and update rollups; returns how many were new. Kept for jobs queued
    before the stream-based pipeline (`drain_events`) replaced it."""
    return services.events_ingest(payloads=payloads)


def drain_events() -> int:
    """Store the events waiting in the Redis stream (the `events` queue), including batches a
    stopped worker left behind; returns how many were new. Also the periodic safety net."""
    from personalization.ingest import drain

    if settings.JOBS_INLINE:
        return 0
    return drain()


def compute_segment_size(segment_id: int) -> int | None:
    """Count who is in a segment now (the `reports` queue)."""
    return services.segment_size_compute(segment_id=segment_id)


def snapshot_segment_sizes() -> int:
    """Recount every enabled segment (periodic, the `reports` queue); returns how many were
    counted. A segment that cannot be counted is logged and skipped: it never costs the
    others their sizes."""
    from personalization.models import Segment

    counted = 0
    for segment_id in Segment.objects.filter(enabled=True).values_list("pk", flat=True):
        try:
            services.segment_size_compute(segment_id=segment_id)
        except Exception:
            logger.exception("Segment %s could not be counted; the others are", segment_id)
            continue
        counted += 1
    return counted


def snapshot_experiment_aggregates() -> int | None:
    """Refresh the experiments' daily aggregates when the experiments app provides the job
    (looked up by name: personalization does not import experiments)."""
    from django.utils.module_loading import import_string

    try:
        job = import_string(settings.EXPERIMENT_AGGREGATES_JOB)
    except ImportError:
        logger.info("No experiment aggregates job %s; skipped", settings.EXPERIMENT_AGGREGATES_JOB)
        return None
    return job()


def evaluate_journeys() -> dict[str, int]:
    """Run the journey steps that are due (periodic, the `default` queue)."""
    from personalization.journeys import journeys_evaluate

    return journeys_evaluate()


def deliver_webhook(message_id: int) -> str:
    """One delivery attempt of a journey webhook (the `default` queue)."""
    from personalization.journeys import webhook_deliver

    return webhook_deliver(message_id=message_id)


def purge_old_events() -> int:
    """Delete raw events older than EVENT_RETENTION_DAYS (periodic); aggregates stay."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS)
    return services.events_purge(before=cutoff)
