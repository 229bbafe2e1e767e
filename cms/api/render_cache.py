"""Serve the API's page documents from the render cache, under the site's key scheme.

A page asked by id or by path is located through a cached route (the site's `store.Route`, built
by `store.route_of`, with the page's path on the site): a hit needs no routing query. The view
restrictions over the page are checked on every request, as `cms.api.pages` checks them; the
key is the site's `personalization_key` of the visitor's context request; the document is one
`store.Render` of kind ``json`` per (page, revision, key) — the site's HTML is kind ``html``
under the same key, so the two never disagree about a visitor's segments and variants.

The stored document holds markers where the visitor's own parts go (`cms.api.holes`): they are
filled per request, after the hit and after the miss that stored it. Serving a hit records what
the uncached endpoint records — exposures of the experiments this key's visitors count in (as
`variant_for` would on a render), offer impressions and journey messages as their holes are
filled. (The API records no page view: a frontend reports its own.) Hits and kept misses count
in the page's render-cache figures (`stats`), as the site's do.

JSON documents carry absolute image URLs, so their entries are named per key *and* per origin
(scheme and host); their ETag is per key. Personalized documents are private, with a weak ETag
of the key and the filled document, and 304 when the caller holds exactly that; documents the
same for everyone stay public with the strong ETag they always had.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from rest_framework.response import Response
from wagtail.models import Page

from cms.api.holes import JsonRecording, fill
from cms.api.pages import (
    check_view_restrictions,
    children_vary_by_viewer,
    page_path,
    page_resolved,
    restrictions_check,
)
from cms.api.resolve import BodyResolution
from cms.render_cache import stats, store
from cms.render_cache.keys import key_covers, personalization_key
from cms.render_cache.usage import Usage
from personalization.api.caching import mark_private, public_response

logger = logging.getLogger(__name__)

HEADER = "X-Render-Cache"
KIND = "json"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ApiRoute:
    """Where an API locator (a page id, a path) leads: the page's route and its path on the
    site (the path of the visitor's context request)."""

    route: store.Route
    path: str


def enabled(request) -> bool:
    return store.enabled() and request.method in ("GET", "HEAD")


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _route_name(host: str, locator: str) -> str:
    return f"render:apiroute:{_digest(host, locator)}"


def _route_get(host: str, locator: str) -> ApiRoute | None:
    try:
        return store.routed_get(_route_name(host, locator), ApiRoute)
    except Exception:  # a cache that cannot answer is a miss, never an error
        logger.exception("Render cache route lookup failed for %s", locator)
        return None


def _render_name(key_digest: str, request) -> str:
    """The entry's name: the key, and the origin its absolute URLs were built for."""
    return _digest(key_digest, request.scheme, request.get_host().lower())


def _etag(key_digest: str, document) -> str:
    encoded = json.dumps(document, sort_keys=True, default=str, separators=(",", ":")).encode()
    return f'W/"{key_digest[:16]}-{hashlib.sha256(encoded).hexdigest()[:16]}"'


def _held(request, etag: str) -> bool:
    sent = {t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")}
    return etag in sent or "*" in sent


# SERVING
# ------------------------------------------------------------------------------


def page_response(view, locator: str, locate: Callable[[], Page]) -> Response:
    """The page `locator` names (`locate()` finds it, raising 404, when the cache cannot),
    for the visitor of `view` (a `VisitorContextMixin` API view): from the cache, or resolved
    and stored."""
    request = view.request._request
    host = request.get_host().lower()
    entry = _route_get(host, locator)
    page = None
    if entry is None:
        page = locate()
        check_view_restrictions(page, request)
        entry = _route_store(host, locator, page, request)
    else:
        restrictions_check(entry.route.restrictions_over, request)
    visitor_request = view.visitor_request(path=entry.path)
    key = personalization_key(visitor_request, entry.route)
    name = _render_name(key.digest, request)
    render = _render_get(entry.route, name, key)
    if render is not None:
        _record_hit(visitor_request, render)
        return _respond(request, visitor_request, render, key.digest, "hit")
    page = page or locate()
    if page.pk != entry.route.page_id or page.live_revision_id != entry.route.revision_id:
        entry = _route_store(host, locator, page, request)
        key = personalization_key(visitor_request, entry.route)
        name = _render_name(key.digest, request)
    render = _render(visitor_request, page, entry.route, name, key)
    return _respond(request, visitor_request, render, key.digest, "miss")


def _route_store(host: str, locator: str, page: Page, request) -> ApiRoute:
    entry = ApiRoute(store.route_of(page), page_path(page, request))
    try:
        store.routed_set(_route_name(host, locator), entry)
    except Exception:
        logger.exception("Render cache could not keep the route of %s", locator)
    return entry


def _render_get(route: store.Route, name: str, key) -> store.Render | None:
    """The stored document, counted as a hit of its page when there (`stats.render_hit`)."""
    try:
        return stats.render_hit(KIND, route, name, key=key)
    except Exception:
        logger.exception("Render cache lookup failed for page %s", route.page_id)
        return None


def _record_hit(visitor_request, render: store.Render) -> None:
    """What resolving the page records besides its holes: the exposures of the experiments
    this key's visitors count in (each once per visitor, as on a render)."""
    from experiments.services import variant_for

    for experiment_key in render.counted_experiments:
        variant_for(visitor_request, experiment_key)


def _render(visitor_request, page: Page, route: store.Route, name: str, key) -> store.Render:
    """Resolve the page with markers for the holes, and keep it (counted as a miss for the
    editor's panel, `stats`) when its key covers every choice in it."""
    recording = JsonRecording()
    state = BodyResolution(visitor_request, recording=recording)
    document, served = page_resolved(visitor_request, page, state)
    public = not (state.personalized or route.restrictions_over or children_vary_by_viewer(served))
    memo = getattr(visitor_request, "_experiment_choices", None) or {}
    render = store.Render(
        body=json.dumps({"document": document, "public": public}),
        holes=recording.holes,
        content_type=CONTENT_TYPE,
        counted_experiments=tuple(k for k, choice in memo.items() if choice.counted),
    )
    consulted = Usage(
        tuple(state.segment_ids), tuple({meta.get("experiment") for meta in state.experiments})
    )
    if not key_covers(visitor_request, route, consulted):
        return render
    try:
        store.render_set(KIND, route, name, render)
    except Exception:
        logger.exception("Render cache could not keep page %s", route.page_id)
    stats.render_served(page_id=route.page_id, key=key, hit=False)
    return render


def _respond(request, visitor_request, render: store.Render, key_digest: str, state: str):
    """The document with its holes filled for this visitor, with its cache headers."""
    stored = json.loads(render.body)
    document = fill(stored["document"], render.holes, visitor_request)
    if stored["public"]:
        response = public_response(request, document, max_age=settings.API_PUBLIC_MAX_AGE)
    else:
        etag = _etag(key_digest, document)
        held = _held(request, etag)
        response = mark_private(Response(None if held else document, status=304 if held else 200))
        response["ETag"] = etag
    response[HEADER] = state
    return response
