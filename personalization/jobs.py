"""Jobs of the personalization core (segment sizes). Each takes plain data and calls a service.

The periodic ones are declared in `settings.PERIODIC_JOBS` (see `personalization.scheduling`).

Jobs that moved to their own apps keep their old paths here for one release, so jobs already
in a queue (RQ stores the dotted path) and PERIODIC_JOBS settings naming them still run after
a deploy. They resolve lazily (PEP 562), so the core does not import the apps above it.
"""

from __future__ import annotations

import importlib
import logging

from personalization import services

logger = logging.getLogger(__name__)


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


MOVED = {
    "ingest_events": "personalization.events.jobs.ingest_events",
    "drain_events": "personalization.events.jobs.drain_events",
    "purge_old_events": "personalization.events.jobs.purge_old_events",
    "evaluate_journeys": "personalization.journeys.jobs.evaluate_journeys",
    "deliver_webhook": "personalization.journeys.jobs.deliver_webhook",
    "snapshot_experiment_aggregates": "experiments.jobs.snapshot_daily_aggregates",
}


def __getattr__(name: str):
    """`personalization.jobs.<moved job>`: the job at its new path (deprecated alias)."""
    if name not in MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attribute = MOVED[name].rpartition(".")
    return getattr(importlib.import_module(module), attribute)
