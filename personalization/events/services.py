"""Recording what visitors do: describing an event, handing it to the pipeline, retention."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from personalization.events.consent import request_allows_event
from personalization.events.ingest import publish, store, with_idempotency_key
from personalization.events.models import Event, EventType


def event_payload(
    *,
    visitor_uuid,
    type: str,
    user_id: int | None = None,
    name: str = "",
    page_id: int | None = None,
    section: str | None = None,
    properties: dict | None = None,
    occurred_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    anonymous: bool = False,
) -> dict:
    """The plain, queue-safe description of one event. `anonymous`: sent by someone not logged
    in (a browser or a visitor token), so it may not join a member's history even when it names
    a member's visitor; events from our own server code or the shop's server leave it False."""
    return {
        "visitor": str(visitor_uuid),
        "user_id": user_id,
        "anonymous": anonymous,
        "type": type,
        "name": name,
        "page_id": page_id,
        "section": section,
        "properties": properties or {},
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "idempotency_key": idempotency_key,
    }


def events_track(payloads: list[dict]) -> None:
    """Hand events to the pipeline once the current transaction commits, in microseconds: one
    Redis call (see `personalization.events.ingest`). Without Redis the process's writer thread
    stores them after the response; if Redis does not answer they are stored synchronously.
    Each event gets an idempotency key here (the client's, else a new one), so however often it
    is delivered it is stored once."""
    if not payloads:
        return
    prepared = [with_idempotency_key(payload) for payload in payloads]
    transaction.on_commit(lambda: publish(prepared))


def page_view_track(*, request, page) -> None:
    """Record a page view without slowing the page (not when analytics consent is withheld)."""
    if not request_allows_event(request, EventType.PAGE_VIEW):
        return
    user = request.user if request.user.is_authenticated else None
    parts = [p for p in page.url_path.split("/") if p]
    section = parts[1] if len(parts) >= 2 else None
    events_track(
        [
            event_payload(
                visitor_uuid=request.visitor_uuid,
                user_id=user.pk if user else None,
                anonymous=user is None,
                type=EventType.PAGE_VIEW,
                page_id=page.pk,
                section=section,
            )
        ]
    )


def events_ingest(*, payloads: list[dict]) -> int:
    """Store each event once (idempotency keys), fold it into its visitor's rollups and send
    `event_stored` for it; returns how many were newly stored. Bulk writes, one transaction per
    batch (see `personalization.events.ingest.store`)."""
    return store(payloads)


def events_purge(*, before: datetime.datetime, chunk: int = 10_000) -> int:
    """Delete raw events that happened before `before`, oldest first in chunks of `chunk`, so
    no transaction grows large. Rollups, experiment conversions and journey records keep no
    reference to raw events and stay. Returns how many were deleted."""
    deleted = 0
    while True:
        ids = list(
            Event.objects.filter(occurred_at__lt=before)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return deleted
        deleted += Event.objects.filter(pk__in=ids).delete()[0]
