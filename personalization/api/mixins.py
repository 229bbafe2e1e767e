"""What every personalized API view shares: the visitor's context request, built once."""

from __future__ import annotations

from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from personalization.api.context import visitor_context_request

CONTEXT_PARAMETERS = [
    OpenApiParameter(
        "page_url",
        OpenApiTypes.STR,
        description="The visitor's landing URL (UTM and query "
        "rules read its query string). Or send the X-Page-Url header.",
    ),
    OpenApiParameter(
        "referrer", OpenApiTypes.STR, description="The visitor's referrer. Or X-Referrer."
    ),
    OpenApiParameter(
        "user_agent",
        OpenApiTypes.STR,
        description="The visitor's browser user agent (device rules). Or X-Visitor-User-Agent; "
        "default: this request's User-Agent.",
    ),
]


def apply_stored_consent(request: HttpRequest, context: HttpRequest) -> None:
    """Apps and servers carry no consent cookie: their visitor's (or member's) stored choice
    applies, as the cookie's would on the site."""
    if getattr(request, "consent_recorded", True):
        return
    from personalization.consent import consent_for

    choices = consent_for(visitor_uuid=request.visitor_uuid, user=request.user)
    context.consent = choices
    context.personalization_consent = choices["personalization"]


class VisitorContextMixin:
    """Gives a view `visitor_request(path=...)`: the request as the visitor's browser would have
    made it (see `personalization.api.context`), created once per call so that the resolver,
    the blocks and the experiments all share one resolution."""

    _visitor_request: HttpRequest | None = None

    def visitor_request(self, *, path: str | None = None) -> HttpRequest:
        if self._visitor_request is None:
            request = self.request._request
            self._visitor_request = visitor_context_request(request, path=path)
            apply_stored_consent(request, self._visitor_request)
        return self._visitor_request
