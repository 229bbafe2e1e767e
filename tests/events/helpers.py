"""Helpers of the event pipeline tests."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from personalization.events.services import event_payload


def page_views(count: int, visitors: int = 10, prefix: str = "pv") -> list[dict]:
    """`count` page views spread over `visitors` new visitors, each with its own key."""
    ids = [uuid.uuid4() for _ in range(visitors)]
    start = timezone.now() - datetime.timedelta(minutes=5)
    return [
        event_payload(
            visitor_uuid=ids[i % visitors],
            type="page_view",
            section="dogs",
            occurred_at=start + datetime.timedelta(milliseconds=i),
            idempotency_key=f"{prefix}-{i}",
        )
        for i in range(count)
    ]
