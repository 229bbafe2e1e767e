"""Visitor endpoints: visitor tokens, "what do you know about me" (read, correct, erase, export),
behaviour events, and the staff listing of segments."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from wagtail.models import Page, PageViewRestriction

from personalization.api.authentication import (
    reload_visitor,
    server_speaks_for_visitor,
    visitor_token_issue,
)
from personalization.api.base import APIDefaultsMixin
from personalization.api.mixins import CONTEXT_PARAMETERS, VisitorContextMixin
from personalization.api.pagination import ListingPagination
from personalization.api.parsers import NonFiniteNumber
from personalization.api.serializers import (
    MAX_BATCH,
    ConsentSerializer,
    EventsAcceptedSerializer,
    EventSerializer,
    EventsRejectedSerializer,
    SegmentSerializer,
    TraitsSerializer,
    VisitorSerializer,
    VisitorTokenSerializer,
    event_quickly_validated,
)
from personalization.api.throttles import IPRateThrottle, VisitorRateThrottle
from personalization.consent import (
    PURPOSES,
    ConsentBelongsToMember,
    consent_change,
    consent_state,
    remember_consent,
)
from personalization.context import build_context
from personalization.event_properties import json_path
from personalization.middleware import rotate_visitor_cookie, writable_visitor
from personalization.models import Segment, Visitor
from personalization.resolver import Resolution, resolve
from personalization.selectors import segments_explain, visitor_export
from personalization.services import (
    event_payload,
    events_track,
    visitor_declare_traits,
    visitor_erase,
)

# VISITORS
# ------------------------------------------------------------------------------


class VisitorTokenView(APIDefaultsMixin, APIView):
    """Issue a signed visitor token (for app and server-side frontends)."""

    throttle_classes = [IPRateThrottle]

    @extend_schema(
        request=None,
        responses={201: VisitorTokenSerializer},
        summary="Issue a visitor token",
        description="Names the visitor of the token sent (a refresh), of the visitor cookie, "
        "or a new visitor. Send it as X-Visitor-Token on every later call.",
    )
    def post(self, request):
        issued = visitor_token_issue(writable_visitor(request._request).uuid)
        body = VisitorTokenSerializer(
            {
                "visitor_token": issued.token,
                "visitor": issued.visitor_uuid,
                "expires_at": issued.expires_at,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


def matched_segments(resolution: Resolution) -> list[dict]:
    """The visitor's segments in priority order, each with the rules that decided it."""
    explained = {e.segment_id: e for e in segments_explain(resolution.attributes)}
    rows = []
    for segment in resolution.segments:
        explanation = explained.get(segment.id)
        rows.append(
            {
                "id": segment.id,
                "slug": segment.slug,
                "name": segment.name,
                "priority": segment.priority,
                "decided_by": explanation.decided_by if explanation else "",
                "rules": [
                    {"rule": c.label, "matched": c.matched}
                    for c in (explanation.clauses if explanation else [])
                ],
            }
        )
    return rows


def visitor_representation(visitor: Visitor, request: HttpRequest) -> dict:
    """What GET /visitor/ shows: traits, the behaviour summary and the matched segments.

    With personalization consent withheld nothing is matched, but what is held is still shown."""
    resolution = resolve(request)
    user = request.user if request.user.is_authenticated else None
    attributes = resolution.attributes or build_context(request, visitor, user)
    return {
        "visitor": visitor.uuid,
        "personalized": getattr(request, "personalization_consent", True),
        "traits": attributes.get("traits") or {},
        "profile": {
            "is_member": attributes.get("is_member", False),
            "is_new": attributes.get("is_new", True),
            "visit_count": attributes.get("visit_count", 0),
            "views": attributes.get("views", {}),
            "cart": attributes.get("cart", {}),
            "purchases": attributes.get("purchases", {}),
        },
        "segments": matched_segments(resolution),
    }


class VisitorView(APIDefaultsMixin, VisitorContextMixin, APIView):
    """The visitor's own data: read it, correct the declared traits, or erase it."""

    throttle_classes = [VisitorRateThrottle, IPRateThrottle]

    def current(self) -> Response:
        visitor = self.request._request.visitor
        body = VisitorSerializer(visitor_representation(visitor, self.visitor_request())).data
        return Response(body)

    @extend_schema(
        responses={200: VisitorSerializer},
        parameters=CONTEXT_PARAMETERS,
        summary="What the site knows about this visitor",
        description="Declared traits, the behaviour summary, and each segment the visitor is "
        "in with the rule that decided it.",
    )
    def get(self, request):
        return self.current()

    @extend_schema(
        request=TraitsSerializer,
        responses={200: VisitorSerializer},
        summary="Declare or correct name and pet",
    )
    def patch(self, request):
        traits = TraitsSerializer(data=request.data)
        traits.is_valid(raise_exception=True)
        visitor = writable_visitor(request._request)
        known = visitor.traits or {}
        stored = visitor_declare_traits(
            visitor_uuid=visitor.uuid,
            user=request.user,
            name=traits.validated_data.get("name", known.get("name", "")),
            pet=traits.validated_data.get("pet", known.get("pet", "")),
        )
        request._request.visitor_cookie_uuid = stored.uuid
        reload_visitor(request._request)
        return self.current()

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Erased.")},
        summary="Erase everything held about this visitor",
        description="Deletes the visitor's events, traits, behaviour rollups and experiment "
        "assignments. Only anonymous aggregates remain. A member's account is kept.",
    )
    def delete(self, request):
        django_request = request._request
        browser_uuid = django_request.visitor_uuid
        visitor_erase(visitor=django_request.visitor)
        anonymous = Visitor.objects.filter(uuid=browser_uuid, user__isnull=True).first()
        if anonymous is not None:
            visitor_erase(visitor=anonymous)
        if not getattr(django_request, "visitor_from_token", False):
            rotate_visitor_cookie(django_request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VisitorExportView(APIDefaultsMixin, APIView):
    """Everything held about the visitor, as one JSON document."""

    throttle_classes = [VisitorRateThrottle, IPRateThrottle]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        summary="Export all data held about this visitor",
        description="The visitor row, the member account and profile (for members), and every "
        "row of any app that refers to the visitor (events, experiment assignments ...).",
    )
    def get(self, request):
        response = Response(visitor_export(visitor=request._request.visitor))
        response["Content-Disposition"] = 'attachment; filename="visitor-data.json"'
        return response


# CONSENT
# ------------------------------------------------------------------------------


class ConsentView(APIDefaultsMixin, APIView):
    """The visitor's consent: what the site's banner records, for apps and frontends.

    The subject is the caller: the member (their record follows them to every device) or the
    visitor of the token or cookie. The shop's server, calling with a staff token and the
    visitor's X-Visitor-Token, speaks for that visitor."""

    throttle_classes = [VisitorRateThrottle, IPRateThrottle]

    def subject(self) -> dict:
        """Whose consent: the shop's server names the token's visitor; anyone else writes as
        `writable_visitor` decides (never into a member's visitor they are not logged in as)."""
        django_request = self.request._request
        if server_speaks_for_visitor(self.request):
            return {"visitor_uuid": django_request.visitor_uuid, "user": None}
        return {"visitor_uuid": writable_visitor(django_request).uuid, "user": self.request.user}

    @extend_schema(
        responses={200: ConsentSerializer},
        summary="The visitor's consent",
        description="analytics, personalization and marketing; `recorded` is false while the "
        "site's defaults apply (analytics and personalization on, marketing off).",
    )
    def get(self, request):
        return Response(ConsentSerializer(consent_state(**self.subject())).data)

    @extend_schema(
        request=ConsentSerializer,
        responses={200: ConsentSerializer},
        summary="Record the visitor's consent",
        description="Send any of analytics, personalization, marketing as true or false; the "
        "others keep their value. Withholding analytics keeps only strictly necessary events; "
        "withholding personalization serves default content on the site and in this API; "
        "marketing is needed for journey messages.",
    )
    def patch(self, request):
        choices = ConsentSerializer(data=request.data)
        choices.is_valid(raise_exception=True)
        try:
            state = consent_change(**self.subject(), **choices.validated_data)
        except ConsentBelongsToMember as exc:
            raise PermissionDenied(str(exc)) from None
        if not getattr(request._request, "visitor_from_token", False):
            choices = {purpose: state[purpose] for purpose in PURPOSES}
            remember_consent(request._request, choices)  # the browser's consent cookie
        return Response(ConsentSerializer(state).data)

    put = patch


# EVENTS
# ------------------------------------------------------------------------------


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
        "shop's server), with the visitor named by X-Visitor-Token.",
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


# SEGMENTS (STAFF)
# ------------------------------------------------------------------------------


@extend_schema(summary="List segments (staff)")
class SegmentListView(APIDefaultsMixin, generics.ListAPIView):
    """Every segment with its rules and last computed size (staff only)."""

    permission_classes = [IsAdminUser]
    serializer_class = SegmentSerializer
    pagination_class = ListingPagination
    queryset = Segment.objects.prefetch_related("rules").order_by("-priority", "name")
