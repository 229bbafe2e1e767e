"""Core endpoints: visitor tokens and the staff listing of segments. The visitor's own data
(read, correct, erase, export, consent) is `personalization.privacy.api`, events
`personalization.events.api`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from personalization.api.authentication import (
    visitor_token_issue,
)
from personalization.api.base import APIDefaultsMixin
from personalization.api.pagination import ListingPagination
from personalization.api.serializers import (
    SegmentSerializer,
    VisitorTokenSerializer,
)
from personalization.api.throttles import IPRateThrottle
from personalization.middleware import writable_visitor
from personalization.models import Segment

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


# SEGMENTS (STAFF)
# ------------------------------------------------------------------------------


@extend_schema(summary="List segments (staff)")
class SegmentListView(APIDefaultsMixin, generics.ListAPIView):
    """Every segment with its rules and last computed size (staff only)."""

    permission_classes = [IsAdminUser]
    serializer_class = SegmentSerializer
    pagination_class = ListingPagination
    queryset = Segment.objects.prefetch_related("rules").order_by("-priority", "name")
