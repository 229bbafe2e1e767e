"""Jobs of the event pipeline. Each takes plain data and calls the pipeline or a service."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from personalization.events import ingest, services


def ingest_events(payloads: list[dict]) -> int:
    """Store tracked events and update rollups; returns how many were new. Kept for jobs queued
    before the stream-based pipeline (`drain_events`) replaced it."""
    return services.events_ingest(payloads=payloads)


def drain_events() -> int:
    """Store the events waiting in the Redis stream (the `events` queue), including batches a
    stopped worker left behind; returns how many were new. Also the periodic safety net."""
    if settings.JOBS_INLINE:
        return 0
    return ingest.drain()


def purge_old_events() -> int:
    """Delete raw events older than EVENT_RETENTION_DAYS (periodic); aggregates stay."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS)
    return services.events_purge(before=cutoff)
