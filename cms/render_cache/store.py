"""Where rendered pages are kept: the default cache (Redis with REDIS_URL, local memory in the
embedded default), under one key scheme for the site's HTML and the API's JSON.

- A **route** maps (host, path) to the live page Wagtail served there: its id, live revision,
  the view restrictions over it and below it (for its listings), and the revision's usage. A
  hit needs no routing query, and reads the route with the version tokens, in one round trip.
- A **render** is one body per (format, page, revision, personalization key): the shared body
  with placeholders, its holes, and the experiments a visitor with that key is counted in.

Every render's name (and every route's value) carries the content *generation*, which changes
when a page is published, unpublished, moved or deleted, when a view restriction or an image
changes: the whole cache is then new (a site's navigation and listings change with any
page). With a per-process cache the generation is re-derived from Wagtail's log entries every
few seconds, so a change made in another process (a scheduled publish in a worker) shows there
too. Entries also expire (TTL).

A render of a page that shows the shop's products (its revision's usage says `catalogue`) is
named by the catalogue's version as well (`personalization.commerce.version`): the shop's feed
changes prices and stock all day, and only those pages are rendered afresh — the rest of the
cache stays warm. Together they are the render's *version* (`version`), which the edge's keys
and includes carry too.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

from cms.render_cache.usage import Usage, revision_usage
from config import version_tokens
from personalization.commerce.version import catalogue_version

logger = logging.getLogger(__name__)


def _logged_changes() -> str:
    """The generation derived from Wagtail's log entries (when the cache has none)."""
    from wagtail.models import ModelLogEntry, PageLogEntry

    pages = PageLogEntry.objects.aggregate(last=Max("id"))["last"] or 0
    models = ModelLogEntry.objects.aggregate(last=Max("id"))["last"] or 0
    return f"log{pages}.{models}"


# The current content generation (see the module's docstring; read once per request,
# `config.version_tokens`); bumping it makes every process render afresh from its next request.
generation = version_tokens.VersionToken("render:generation", _logged_changes)
GENERATION_KEY = generation.key
bump_generation = generation.bump


def ttl() -> int:
    return getattr(settings, "RENDER_CACHE_TTL", 600)


def enabled() -> bool:
    return getattr(settings, "RENDER_CACHE_ENABLED", True)


def version(route: Route) -> str:
    """The version renders of `route` are named by: the generation, and the catalogue's
    version when the page shows products."""
    if route.usage.catalogue:
        return f"{generation()}~{catalogue_version()}"
    return generation()


def version_current(name: str) -> bool:
    """Whether a version `version` gave earlier is still the current one."""
    gen, _, catalogue = name.partition("~")
    return gen == generation() and (not catalogue or catalogue == catalogue_version())


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


# ROUTES
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """The live page served at one address, as a cache hit needs it."""

    page_id: int
    url_path: str
    revision_id: int
    restrictions_over: tuple = ()
    restrictions_below: tuple = ()
    usage: Usage = field(default_factory=Usage)


def route_of(page) -> Route:
    """The route of a live page (a few queries: its restrictions and its revision's usage),
    built the same way for the site and the API."""
    from cms.selectors import view_restrictions_below

    over = tuple(page.get_view_restrictions().prefetch_related("groups"))
    below = tuple(view_restrictions_below(page).select_related("page").prefetch_related("groups"))
    return Route(
        page_id=page.pk,
        url_path=page.url_path,
        revision_id=page.live_revision_id or 0,
        restrictions_over=over,
        restrictions_below=below,
        usage=revision_usage(revision_id=page.live_revision_id or 0, page=page),
    )


# A route is stored with the generation it was built in, under a name without it, so that a
# hit reads it in the same round trip as the version tokens (`config.version_tokens`); one of
# another generation is no route.


def routed_get(name: str, kind: type) -> Any | None:
    """The `kind` stored under `name` by `routed_set` in the current generation, else None."""
    stored = version_tokens.read_with([name]).get(name)
    if not (isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[1], kind)):
        return None
    return stored[1] if stored[0] == generation() else None


def routed_set(name: str, value: Any) -> None:
    cache.set(name, (generation(), value), ttl())


def _route_key(host: str, path: str) -> str:
    return f"render:route:{_digest(host, path)}"


def route_get(host: str, path: str) -> Route | None:
    return routed_get(_route_key(host, path), Route)


def route_set(host: str, path: str, route: Route) -> None:
    routed_set(_route_key(host, path), route)


# RENDERS
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Render:
    """One shared body: placeholders in place of the holes, and what serving it records."""

    body: str
    holes: list[tuple[str, Any]]
    content_type: str
    counted_experiments: tuple[str, ...] = ()


def render_key(kind: str, route: Route, key_digest: str, named: str | None = None) -> str:
    """The name of a render (`named`: the version it was stored under, else the current)."""
    named = named or version(route)
    return f"render:{kind}:{named}:{route.page_id}:{route.revision_id}:{key_digest}"


def render_get(kind: str, route: Route, key_digest: str, named: str | None = None) -> Render | None:
    render = cache.get(render_key(kind, route, key_digest, named))
    return render if isinstance(render, Render) else None


def render_set(kind: str, route: Route, key_digest: str, render: Render) -> None:
    cache.set(render_key(kind, route, key_digest), render, ttl())


def usage_of_revision(revision_id: int) -> Usage | None:
    """The stored usage of a revision (a page-level variant's draft), None if not recorded."""
    from cms.models import RevisionPersonalization

    row = RevisionPersonalization.objects.filter(revision_id=revision_id).first()
    return Usage.of(row) if row is not None else None
