"""Bench-only URLs for `bench/ingest.py` (settings: `bench.ingest_settings`): the project's URLs
plus POST /bench/events/, which hands the posted events straight to `events_track` (the path the
site's own server-side tracking takes), to measure the pipeline apart from the API's per-event
validation. Never used outside the benchmark."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project
from personalization.events.services import event_payload, events_track


@csrf_exempt
@require_POST
def track(request: HttpRequest) -> JsonResponse:
    """Queue the posted page views for the visitor named by X-Bench-Visitor."""
    visitor = uuid.UUID(request.headers["X-Bench-Visitor"])
    events = json.loads(request.body)
    events_track(
        [
            event_payload(
                visitor_uuid=visitor,
                type="page_view",
                properties=event.get("properties") or {},
                idempotency_key=event.get("idempotency_key"),
            )
            for event in events
        ]
    )
    return JsonResponse({"accepted": len(events)}, status=202)


urlpatterns = [path("bench/events/", track), *project]
