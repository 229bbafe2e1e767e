"""The request context of a headless call: what the visitor's browser told the frontend.

A frontend fetching a page for a visitor is not the visitor's browser, so the attribute context
(`personalization.context.request_attributes`) is built from what the frontend reports instead:
the visit's landing URL (its query string carries UTM and query rules), the referrer and the user
agent. Only those browser-influenced keys can move. A country header is believed only from the
configured trusted proxies (and a trusted proxy's own address is not geolocated); member
attributes, purchases, consent and variants never come from the client.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError

from personalization.context import from_trusted_proxy

MAX_URL_LENGTH = 2048
MAX_USER_AGENT_LENGTH = 512

# (query parameter, header) pairs a frontend may use; the query parameter wins.
PAGE_URL = ("page_url", "HTTP_X_PAGE_URL", "X-Page-Url")
REFERRER = ("referrer", "HTTP_X_REFERRER", "X-Referrer")
USER_AGENT = ("user_agent", "HTTP_X_VISITOR_USER_AGENT", "X-Visitor-User-Agent")


def _reported(request: HttpRequest, source: tuple[str, str, str]) -> tuple[str, str]:
    """(value, the name the client used for it) of one client-reported value, or ("", name)."""
    param, meta_key, header = source
    if param in request.GET:
        return request.GET[param].strip(), param
    return str(request.META.get(meta_key, "")).strip(), header


@dataclass(frozen=True)
class ReportedUrl:
    """A URL the frontend reported, as sent and split."""

    raw: str = ""
    path: str = ""
    query: str = ""


def reported_url(request: HttpRequest, source: tuple[str, str, str]) -> ReportedUrl:
    """A reported URL, validated: an http(s) URL or a site path (400 naming it otherwise)."""
    value, name = _reported(request, source)
    if not value:
        return ReportedUrl()
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(
            {name: [gettext("Use at most %(count)d characters.") % {"count": MAX_URL_LENGTH}]}
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed host or port
    except ValueError:
        raise ValidationError({name: [gettext("Enter a valid URL.")]}) from None
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    if not absolute and not (value.startswith("/") and not value.startswith("//")):
        raise ValidationError({name: [gettext("Enter an http(s) URL or a path starting with /.")]})
    return ReportedUrl(value, parts.path or "/", parts.query)


def visitor_context_request(request: HttpRequest, *, path: str | None = None) -> HttpRequest:
    """A copy of `request` whose URL, query, referrer, user agent and country are the visitor's
    as reported by the frontend, for the resolver and the blocks (which read only those).

    `path` is the page's own path on the site (what the site's request.path would be); without
    it, the landing URL's path. The visitor, user and session are the request's own."""
    landing = reported_url(request, PAGE_URL)
    referrer = reported_url(request, REFERRER).raw
    user_agent, _ = _reported(request, USER_AGENT)
    meta = {k: v for k, v in request.META.items() if k not in ("HTTP_REFERER", "QUERY_STRING")}
    # An untrusted peer's country header is gone already (VisitorMiddleware drops it).
    if from_trusted_proxy(request):
        # A frontend server speaks for its visitors: its own address (GeoIP) says nothing.
        meta.pop("REMOTE_ADDR", None)
    if user_agent:
        meta["HTTP_USER_AGENT"] = user_agent[:MAX_USER_AGENT_LENGTH]
    if referrer:
        meta["HTTP_REFERER"] = referrer
    meta["QUERY_STRING"] = landing.query
    context = copy.copy(request)
    context.META = meta
    context.GET = QueryDict(landing.query)
    context.path = context.path_info = path or landing.path or "/"
    for memo in ("_personalization_resolution", "_experiment_choices", "_experiment_assignments"):
        context.__dict__.pop(memo, None)
    return context
