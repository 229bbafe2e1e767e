"""Holes: the parts of a page that belong to one visitor, kept out of the shared render.

While a page is rendered for the cache, each per-visitor part renders a placeholder instead of
itself and leaves a *hole* in the recording: its kind and a payload that holds nothing about the
visitor (the block's settings, its visitor-independent HTML). After a cache hit — and after the
miss that filled the cache, so both take one path — each placeholder is replaced by the hole's
kind rendered for the current request.

Kinds:

- ``csrf`` and ``path``: the CSRF token of forms and the page's own address with its query
  (forms' ``next``), so neither one visitor's token nor their tracking parameters are shared;
- ``include``: a small template rendered for the request — the header's log-in state, flash
  messages, the page's journey message slot;
- the blocks' own kinds, registered with `filler` where the blocks are defined
  (`cms.personalized_blocks`: ``greeting``, ``profile_form``, ``offer``;
  `cms.notification_blocks`: ``notification``; `cms.recommendation_blocks`: ``recommendations``,
  the whole block, whose products are the visitor's own).

The render cache (`cms.render_cache`) keeps bodies with placeholders and fills them; this
module knows no block and no cache, so the blocks and the cache both build on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Private-use characters: never produced by HTML escaping, so a placeholder survives inside an
# attribute value (the CSRF input's) as well as in text.
OPEN, CLOSE = "\ue000", "\ue001"
MARKER = re.compile(f"{OPEN}(\\d+){CLOSE}")
MAX_DEPTH = 4  # a hole's payload may hold placeholders (a form's CSRF token), not endlessly


@dataclass
class RenderRecording:
    """What a render for the cache left behind: its holes, and whether it rendered the page."""

    holes: list[tuple[str, Any]] = field(default_factory=list)
    page: Any = None  # the live page Wagtail routed to (set by a before_serve_page hook)
    cacheable: bool = True

    def placeholder(self, kind: str, payload: Any = None) -> SafeString:
        self.holes.append((kind, payload))
        return mark_safe(f"{OPEN}{len(self.holes) - 1}{CLOSE}")  # noqa: S308 - digits only


def recording_of(request) -> RenderRecording | None:
    """The recording of a render for the cache in progress on this request, if any."""
    return getattr(request, "_render_recording", None) if request is not None else None


def recording_in(context) -> RenderRecording | None:
    return recording_of((context or {}).get("request"))


# FILLING
# ------------------------------------------------------------------------------

Filler = Callable[[Any, Any], str]
FILLERS: dict[str, Filler] = {}


def filler(kind: str) -> Callable[[Filler], Filler]:
    def register(function: Filler) -> Filler:
        FILLERS[kind] = function
        return function

    return register


def fill(
    body: str, holes: list[tuple[str, Any]], request, *, later: frozenset[str] = frozenset()
) -> str:
    """`body` with every placeholder replaced by its hole rendered for `request`; the holes of
    the kinds in `later` are left as placeholders (filled by calling `fill` again)."""

    def substitute(text: str, depth: int) -> str:
        def one(match: re.Match) -> str:
            index = int(match.group(1))
            if index >= len(holes):
                return ""
            kind, payload = holes[index]
            if kind in later:
                return match.group(0)
            function = FILLERS.get(kind)
            html = function(payload, request) if function is not None else ""
            # A payload's own HTML may hold placeholders; a visitor's data is never re-read.
            return substitute(html, depth + 1) if depth < MAX_DEPTH and kind in NESTING else html

        return MARKER.sub(one, text)

    return substitute(body, 0)


# Kinds whose payload holds HTML rendered with the page (a form with its CSRF placeholder).
NESTING = {"profile_form", "offer"}


@filler("csrf")
def _csrf(payload, request) -> str:
    return escape(get_token(request))


@filler("path")
def _path(payload, request) -> str:
    return escape(request.get_full_path())


@filler("include")
def _include(payload: str | dict, request) -> str:
    """A template name, or {"template": name, "values": the page's settings it shows}."""
    if isinstance(payload, dict):
        return render_to_string(payload["template"], payload["values"], request=request)
    return render_to_string(payload, request=request)
