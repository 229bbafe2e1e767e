"""The edge's two origin endpoints (`cms.render_cache.edge`): the key of a page view, and one
hole of a shared copy filled for the visitor asking. Neither renders a page nor routes one:
both read what the render cache already holds."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.render_cache import edge, store
from cms.render_cache.keys import personalization_key
from cms.render_cache.middleware import _eligible, _record_view
from personalization.api.base import APIDefaultsMixin

logger = logging.getLogger(__name__)

MAX_PATH_LENGTH = 2048
# nginx cannot percent-encode the address into `?path=`: it may send it as this header instead.
ORIGINAL_URI_META = "HTTP_X_ORIGINAL_URI"

SHARED = "shared"  # the reason decide gives when a proxy may share the page


@dataclass(frozen=True)
class Decision:
    """The edge key of a page view, or why there is none (then the proxy passes it on)."""

    key: str | None
    reason: str


def page_language(full_path: str) -> str:
    """The language the site serves `full_path` in (/ja/… Japanese, else the default): the
    key's and the holes' language, whatever the address asking about the page."""
    return translation.get_language_from_path(full_path.split("?")[0]) or settings.LANGUAGE_CODE


def page_decide(request, full_path: str) -> Decision:
    """The edge key of `request` viewing the site page at `full_path`; with a key, the page
    view (and the exposures of the experiments the key's visitors count in) is recorded here,
    because the edge serves the page without asking the origin again."""
    with translation.override(page_language(full_path)):
        return _page_decide(request, full_path)


def _page_decide(request, full_path: str) -> Decision:
    if not edge.enabled():
        return Decision(None, "edge-off")
    page_request = edge.page_request(request, full_path)
    if not _eligible(page_request):
        return Decision(None, "not-shared")
    route = store.route_get(request.get_host().lower(), page_request.path)
    if route is None:
        return Decision(None, "not-cached")  # served once by the origin, then known
    if route.restrictions_over:
        return Decision(None, "restricted")
    reason = edge.refusal(page_request)
    if reason:
        return Decision(None, reason)
    key = personalization_key(page_request, route)
    if edge.visitor_changed(page_request):
        return Decision(None, "new-visitor")
    render = store.render_get("html", route, key.digest)
    if render is None:
        return Decision(None, "not-cached")  # the origin renders it privately and keeps it
    _record_view(page_request, route, render)
    return Decision(edge.edge_key(key.digest, store.version(route)), SHARED)


class DecideQuerySerializer(serializers.Serializer):
    path = serializers.CharField(
        max_length=MAX_PATH_LENGTH,
        help_text="The page's path on the site, with its query string (URL-encoded).",
    )

    def validate_path(self, value: str) -> str:
        if not value.startswith("/") or value.startswith("//"):
            raise serializers.ValidationError("Enter a path starting with a single /.")
        return value


class DecideView(APIDefaultsMixin, APIView):
    """`GET /api/v1/decide/?path=`: the visitor's opaque edge key of a page (edge mode)."""

    # One call per page view, from the proxy in front of the site: throttled no more than the
    # site's pages are (a proxy's one address would otherwise throttle all its visitors).
    throttle_classes: list = []

    @extend_schema(
        parameters=[DecideQuerySerializer],
        responses={
            200: inline_serializer(
                "EdgeDecision",
                {
                    "key": serializers.CharField(allow_null=True),
                    "reason": serializers.CharField(),
                },
            ),
            400: OpenApiResponse(description="No path, or not a site path."),
        },
        summary="The edge key of a page view (edge mode)",
        description=(
            "For a CDN or reverse proxy in front of the site (RENDER_CACHE_EDGE): the key under "
            "which it may keep and share this visitor's copy of the page, also in the "
            "X-Personalization-Key header; null (with the reason) when the page must come from "
            "the origin. Opaque, signed, changes with the content and the secret. Counts as "
            "the page view. Never cached. Without `path`, the X-Original-URI header names the "
            "page (for nginx's auth_request)."
        ),
    )
    def get(self, request):
        asked = request.query_params.dict()
        if "path" not in asked and ORIGINAL_URI_META in request.META:
            asked["path"] = request.META[ORIGINAL_URI_META]  # nginx's auth_request idiom
        incoming = DecideQuerySerializer(data=asked)
        incoming.is_valid(raise_exception=True)
        decision = page_decide(request._request, incoming.validated_data["path"])
        response = Response({"key": decision.key, "reason": decision.reason})
        if decision.key:
            response[edge.KEY_HEADER] = decision.key
        return response


def _fragment(html: str = "", status: int = 200) -> HttpResponse:
    """An include's answer: never stored anywhere; an error is an empty body (the proxy puts
    whatever comes back into the page)."""
    response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def hole_fragment(request, ref: str) -> HttpResponse:
    """`/_edge/hole/<signed ref>/`: one hole of a shared copy, filled for this visitor."""
    if not edge.enabled():
        return _fragment(status=404)
    hole = edge.hole_read(ref)
    if hole is None:
        return _fragment(status=400)
    render = edge.hole_render(hole)
    if render is None:
        logger.warning("Edge hole of page %s: its render is no longer stored", hole.page_id)
        return _fragment(status=404)
    page_request = edge.page_request(request, hole.full_path)
    with translation.override(page_language(hole.full_path)):
        return _fragment(edge.hole_html(render, hole, page_request))
