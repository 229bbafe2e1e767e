"""Jobs of the personalization app. Each takes plain data, loads, and calls a service."""

from __future__ import annotations

from personalization import services


def ingest_events(payloads: list[dict]) -> int:
    """Store tracked events and update rollups (the `events` queue); returns how many were new."""
    return services.events_ingest(payloads=payloads)


def compute_segment_size(segment_id: int) -> int | None:
    """Count who is in a segment now (the `reports` queue)."""
    return services.segment_size_compute(segment_id=segment_id)
