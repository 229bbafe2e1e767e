"""The visitor's data rights over the API: what the site knows (read, correct, erase), export,
and consent."""

from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from personalization.api.authentication import (
    reload_visitor,
    server_speaks_for_visitor,
)
from personalization.api.base import APIDefaultsMixin
from personalization.api.mixins import CONTEXT_PARAMETERS, VisitorContextMixin
from personalization.api.throttles import IPRateThrottle, VisitorRateThrottle
from personalization.consent import (
    PURPOSES,
    ConsentBelongsToMember,
    consent_change,
    consent_state,
    remember_consent,
)
from personalization.context import build_context
from personalization.middleware import rotate_visitor_cookie, writable_visitor
from personalization.models import Visitor
from personalization.privacy.api.serializers import (
    ConsentSerializer,
    TraitsSerializer,
    VisitorSerializer,
)
from personalization.privacy.selectors import visitor_export
from personalization.privacy.services import visitor_erase
from personalization.resolver import Resolution, resolve
from personalization.selectors import segments_explain
from personalization.services import visitor_declare_traits


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
