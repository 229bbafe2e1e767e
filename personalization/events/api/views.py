"""POST /api/v1/events/: behaviour events in batches, all checked before any is accepted."""

import uuid

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from wagtail.models import Page, PageViewRestriction

from personalization.api.authentication import (
    server_speaks_for_visitor,
)
from personalization.api.base import APIDefaultsMixin
from personalization.api.parsers import NonFiniteNumber
from personalization.api.throttles import IPRateThrottle, VisitorRateThrottle
from personalization.events.api.serializers import (
    MAX_BATCH,
    EventsAcceptedSerializer,
    EventSerializer,
    EventsRejectedSerializer,
    event_quickly_validated,
)
from personalization.events.properties import json_path
from personalization.events.services import event_payload, events_track


class EventBatchError(ValueError):
    """The request body is not one event or an array of 1 to MAX_BATCH events."""


def _event_items(data) -> list:
    """The events of a request body: one object, or an array of 1 to MAX_BATCH."""
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise EventBatchError("Send one event object or an array of events.")
    if not data:
        raise EventBatchError("Send at least one event.")
    if len(data) > MAX_BATCH:
        raise EventBatchError(f"Send at most {MAX_BATCH} events at once (got {len(data)}).")
    return data


def _rejected(detail: str, errors: list[dict]) -> Response:
    """400: nothing of the request was recorded; each problem with its index and field."""
    return Response({"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def _flatten(index: int, errors: dict, prefix: str = "") -> list[dict]:
    """[{index, field, message}] from a serializer's errors (nested ones as `properties.price`)."""
    rows = []
    for field, messages in errors.items():
        if isinstance(messages, dict):
            rows += _flatten(index, messages, prefix=f"{prefix}{field}.")
            continue
        for message in messages if isinstance(messages, list) else [messages]:
            rows.append({"index": index, "field": f"{prefix}{field}", "message": str(message)})
    return rows


def _non_finite_error(exc: NonFiniteNumber) -> dict:
    """The parser's refusal of a number that is not finite, as the event and field it is in."""
    index, path = 0, exc.path
    if path and isinstance(path[0], int):  # an array of events
        index, path = path[0], path[1:]
    field = json_path(path) or api_settings.NON_FIELD_ERRORS_KEY
    message = f"Must be a finite number (got {exc.literal})."
    return {"index": index, "field": field, "message": message}


def _page_sections(page_ids: set[int], request: HttpRequest) -> tuple[dict, set[int]]:
    """page id → its top-level section slug, for the pages that exist; and which of them the
    request may not see."""
    sections, paths = {}, {}
    pages = Page.objects.filter(pk__in=page_ids).values_list("pk", "path", "url_path")
    for pk, path, url_path in pages:
        parts = [p for p in url_path.split("/") if p]
        sections[pk] = parts[1] if len(parts) >= 2 else None
        paths[pk] = path
    return sections, _pages_hidden_from(request, paths)


def _pages_hidden_from(request: HttpRequest, paths: dict[int, str]) -> set[int]:
    """Pages under a view restriction the request does not pass: Wagtail's rule, as the site
    and the page API (`cms.api.pages`) apply it. Only the restrictions on the pages' own
    ancestors are read (one query)."""
    steplen = Page.steplen
    ancestors = {p[:end] for p in paths.values() for end in range(steplen, len(p) + 1, steplen)}
    restrictions = (
        PageViewRestriction.objects.filter(page__path__in=ancestors)
        .select_related("page")
        .prefetch_related("groups")
    )
    refused = tuple(r.page.path for r in restrictions if not r.accept_request(request))
    return {pk for pk, path in paths.items() if refused and path.startswith(refused)}


class EventsView(APIDefaultsMixin, APIView):
    """Behaviour events from frontends, validated as a whole and queued."""

    throttle_classes = [VisitorRateThrottle, IPRateThrottle]

    @extend_schema(
        request=EventSerializer(many=True),
        responses={
            202: EventsAcceptedSerializer,
            400: EventsRejectedSerializer,
        },
        summary="Record one event or a batch of up to 100",
        description="Send one event object or an array of them. A batch is all-or-nothing: if "
        "any event is invalid, none is recorded and every problem is listed with its index and "
        "field. purchase and sign_up events are accepted only from a staff API token (the "
        "shop's server), with the visitor named by X-Visitor-Token. favourite_added, "
        "favourite_removed and recommendation_impression are recorded only by the site itself "
        "(from the favourites API and when a Recommendations block is served) and refused "
        "here, naming `type`.",
    )
    def post(self, request):
        try:
            items = _event_items(request.data)
        except NonFiniteNumber as exc:
            error = _non_finite_error(exc)
            return _rejected(f"Event {error['index']} is invalid; none was recorded.", [error])
        except (ParseError, EventBatchError) as exc:
            message = str(getattr(exc, "detail", exc))
            return _rejected(message, [{"index": None, "field": "events", "message": message}])
        valid, errors = [], []
        # One serializer for every item (DRF deep-copies a serializer's fields per instance),
        # and only for items the quick check is not sure of: DRF's per-field machinery was
        # most of the cost of a batch.
        validator = EventSerializer(context={"user": request.user})
        for index, item in enumerate(items):
            event = event_quickly_validated(item, validator)
            if event is not None:
                valid.append((index, event))
                continue
            try:
                valid.append((index, validator.run_validation(item)))
            except ValidationError as exc:
                detail = exc.detail
                if not isinstance(detail, dict):
                    detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
                errors += _flatten(index, detail)
        page_ids = {e["page"] for _, e in valid if e["page"]}
        sections, hidden = _page_sections(page_ids, request._request) if page_ids else ({}, set())
        errors += [
            {"index": i, "field": "page", "message": f"No page with id {e['page']}."}
            for i, e in valid
            if e["page"] and e["page"] not in sections
        ]
        errors += [
            {"index": i, "field": "page", "message": "You may not see this page."}
            for i, e in valid
            if e["page"] in hidden
        ]
        if errors:
            errors.sort(key=lambda row: row["index"])
            return _rejected(f"Event {errors[0]['index']} is invalid; none was recorded.", errors)
        subject = self.events_subject()
        events_track([self.payload(e, sections, subject) for _, e in valid])
        return Response({"accepted": len(valid)}, status=status.HTTP_202_ACCEPTED)

    def events_subject(self) -> tuple[uuid.UUID, int | None, bool]:
        """Whose events these are, as (visitor id, member id, sent anonymously), without a
        query: the shop's server speaks for the token's visitor, anyone else for themselves.
        The worker files them as `load_visitor` decides for pages (the member's own visitor,
        merges followed, and nothing sent anonymously joins a member's history)."""
        request, user = self.request._request, self.request.user
        if server_speaks_for_visitor(self.request):
            return request.visitor_uuid, None, False
        if user.is_authenticated:
            return request.visitor_uuid, user.pk, False
        return request.visitor_uuid, None, True

    @staticmethod
    def payload(
        event: dict, sections: dict[int, str | None], subject: tuple[uuid.UUID, int | None, bool]
    ) -> dict:
        """The queue payload of one validated event."""
        visitor_uuid, user_id, anonymous = subject
        return event_payload(
            visitor_uuid=visitor_uuid,
            user_id=user_id,
            anonymous=anonymous,
            type=event["type"],
            name=event["name"],
            page_id=event["page"],
            section=sections.get(event["page"]),
            properties=event["properties"],
            occurred_at=event["occurred_at"],
            idempotency_key=event["idempotency_key"],
        )
