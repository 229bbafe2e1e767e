"""Serve site pages from the render cache, in front of Wagtail's router.

A GET of a site page: look up the route of the address, check the page's view restrictions
exactly as Wagtail does, build the personalization key, and serve the shared body with its
holes filled for this visitor — recording what an uncached page view records (the page view,
exposures of the experiments the visitor counts in; offer impressions and journey messages as
their holes are filled). Anything else — a miss, a restriction that does not admit the request,
a preview, an editor (the Wagtail user bar is theirs alone), a POST — goes to Wagtail; a miss
is rendered with placeholders, stored, and then filled like a hit.
"""

from __future__ import annotations

import hashlib
import logging
from types import SimpleNamespace

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control

from cms import holes as holes_module
from cms.render_cache import edge, stats, store
from cms.render_cache.keys import key_covers, personalization_key

logger = logging.getLogger(__name__)

HEADER = "X-Render-Cache"
CSRF_KINDS = frozenset({"csrf"})
SKIPPED_PREFIXES = (
    "/admin/",
    "/api/",
    "/static/",
    "/media/",
    "/django-admin/",
    "/documents/",
    "/_edge/",  # the edge's hole fragments (`cms.render_cache.views`)
)


def _is_editor(request) -> bool:
    """Editors get the Wagtail user bar, which is theirs alone: they are never cached for.
    Decided without a query: staff, or admin access noted in the session at log-in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return bool(request.session.get("cms_admin_access"))


def _eligible(request) -> bool:
    return (
        store.enabled()
        and request.method in ("GET", "HEAD")
        and not request.path.startswith(SKIPPED_PREFIXES)
        and not getattr(request, "is_preview", False)
        and "HTTP_AUTHORIZATION" not in request.META
        and not _is_editor(request)
    )


def _host(request) -> str:
    return request.get_host().lower()


def _etag(key_digest: str, body: str) -> str:
    return f'W/"{key_digest[:16]}-{hashlib.sha256(body.encode()).hexdigest()[:16]}"'


def _respond(
    request, render: store.Render, key_digest: str, state: str, response=None
) -> HttpResponse:
    """Fill the holes for this request (into `response`, the one Wagtail just rendered, on a
    miss); 304 when the visitor already holds exactly this (the CSRF token aside: a fresh mask
    of the same secret, so an older copy's is as good)."""
    body = holes_module.fill(render.body, render.holes, request, later=CSRF_KINDS)
    etag = _etag(key_digest, body)
    body = holes_module.fill(body, render.holes, request)
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponseNotModified()
    elif response is None:
        response = HttpResponse(body, content_type=render.content_type)
    else:
        response.content = body.encode(response.charset)
    response["ETag"] = etag
    response[HEADER] = state
    patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response


def _admitted(request, route: store.Route) -> bool:
    return all(restriction.accept_request(request) for restriction in route.restrictions_over)


def _record_view(request, route: store.Route, render: store.Render) -> None:
    """What serving the page records when Wagtail serves it: the page view and the exposures
    of the experiments this key's visitors count in."""
    from experiments.services import variant_for
    from personalization.events.services import page_view_track

    page = SimpleNamespace(pk=route.page_id, url_path=route.url_path)
    page_view_track(request=request, page=page)
    for key in render.counted_experiments:
        variant_for(request, key)


def serve_cached(request) -> HttpResponse | None:
    """The page from the cache, or None (then Wagtail serves it)."""
    route = store.route_get(_host(request), request.path)
    if route is None or not _admitted(request, route):
        return None
    key = personalization_key(request, route)
    edge_key = edge.accepted(request, route, key.digest)
    render = stats.render_hit("html", route, key.digest, key=key)  # (and counts it)
    if render is None:
        request._render_cache_route = route
        return None
    if edge_key is None:
        _record_view(request, route, render)
    else:  # the edge asks for the copy it shares: its decide recorded this view already
        shared = edge.respond(request, route, key.digest, render, edge_key)
        if shared is not None:
            shared[HEADER] = "edge"
            return shared
    return _respond(request, render, key.digest, "hit")


def store_rendered(request, response, recording) -> HttpResponse:
    """After Wagtail rendered a page with placeholders: keep the shared body, fill the holes."""
    page = recording.page
    cacheable = (
        page is not None
        and recording.cacheable
        and response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies  # the view's cookies are one visitor's
    )
    if not cacheable:
        return _fill_in_place(request, response, recording)
    route = getattr(request, "_render_cache_route", None)
    if route is None or route.page_id != page.pk or route.revision_id != page.live_revision_id:
        route = store.route_of(page)
        store.route_set(_host(request), request.path, route)
    if not key_covers(request, route):
        return _fill_in_place(request, response, recording)
    key = personalization_key(request, route)
    memo = getattr(request, "_experiment_choices", None) or {}
    render = store.Render(
        body=response.content.decode(response.charset),
        holes=recording.holes,
        content_type=response["Content-Type"],
        counted_experiments=tuple(k for k, choice in memo.items() if choice.counted),
    )
    store.render_set("html", route, key.digest, render)
    stats.render_served(page_id=route.page_id, key=key, hit=False)
    return _respond(request, render, key.digest, "miss", response)


def _fill_in_place(request, response, recording) -> HttpResponse:
    """A response rendered with placeholders that is not kept: fill them for this request."""
    if recording.holes and not response.streaming and hasattr(response, "content"):
        charset = response.charset
        body = holes_module.fill(response.content.decode(charset), recording.holes, request)
        response.content = body.encode(charset)
    return response


class RenderCacheMiddleware:
    """After the session, authentication, visitor and consent middleware (the key needs them),
    inside the CSRF middleware (which sets the cookie a filled CSRF hole asks for)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _eligible(request):
            return self.get_response(request)
        try:
            cached = serve_cached(request)
        except Exception:  # a cache that cannot serve is a miss, never an error page
            logger.exception("Render cache lookup failed for %s", request.path)
            cached = None
        if cached is not None:
            return cached
        recording = holes_module.RenderRecording()
        request._render_recording = recording
        try:
            response = self.get_response(request)
        finally:
            request._render_recording = None
        return store_rendered(request, response, recording)
