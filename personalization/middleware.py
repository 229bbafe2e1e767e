"""Identify the visitor on every request without touching the database until asked.

`request.visitor_uuid` comes from the signed visitor cookie (a tampered, expired or malformed
cookie is ignored and replaced, never an error). `request.visitor` is a lazy `Visitor`: the
stored one (the member's own when logged in) or an unsaved one with no history. The cookie is
(re)issued on the response when needed; nothing is written to the database here.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty

from personalization.context import CAMPAIGN_COOKIE, CAMPAIGN_SALT, UTM_KEYS

VISITOR_SALT = "personalization.visitor"


def read_visitor_cookie(request) -> uuid.UUID | None:
    """The visitor id in the signed cookie, or None when missing or not trustworthy."""
    try:
        value = request.get_signed_cookie(
            settings.VISITOR_COOKIE_NAME,
            default=None,
            salt=VISITOR_SALT,
            max_age=settings.VISITOR_COOKIE_AGE,
        )
        return uuid.UUID(value) if value else None
    except (signing.BadSignature, ValueError, TypeError):
        return None


def set_visitor_cookie(response, visitor_uuid: uuid.UUID) -> None:
    """Issue the signed, HttpOnly, SameSite=Lax visitor cookie."""
    response.set_signed_cookie(
        settings.VISITOR_COOKIE_NAME,
        str(visitor_uuid),
        salt=VISITOR_SALT,
        max_age=settings.VISITOR_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def rotate_visitor_cookie(request) -> uuid.UUID:
    """Give this browser a new visitor id (on log-out, or when the cookie is not theirs)."""
    fresh = uuid.uuid4()
    request.visitor_uuid = fresh
    request.visitor_cookie_uuid = fresh
    return fresh


def load_visitor(request):
    """The visitor this request speaks for: the member's, else the cookie's, else a new one.

    One query: a member's own visitor and the cookie's are fetched together, the member's with
    their profile. Anyone else's is one row of one table (building and reading the four-table
    join cost more than the rest of choosing a page's content); only an old cookie of a merged
    visitor (rare: a log-out gives the browser a new id) costs a second query, for its target."""
    from personalization.models import Visitor

    user = getattr(request, "user", None)
    member_id = user.pk if user is not None and user.is_authenticated else None
    if member_id:
        queryset = Visitor.objects.select_related("merged_into", "user__profile")
        lookup = Q(uuid=request.visitor_uuid) | Q(user_id=member_id)
    else:
        queryset, lookup = Visitor.objects.all(), Q(uuid=request.visitor_uuid)
    rows = list(queryset.filter(lookup)[:2])
    own = next((v for v in rows if member_id and v.user_id == member_id), None)
    if own is not None:
        return own
    visitor = next((v for v in rows if v.uuid == request.visitor_uuid), None)
    if visitor is None:
        return Visitor(uuid=request.visitor_uuid)
    if visitor.merged_into_id:
        visitor = visitor.merged_into
    if visitor.user_id and visitor.user_id != member_id:
        # The id belongs to a member who is not logged in here (session ended on a shared
        # computer): this browser starts afresh under a new id, so nothing of theirs shows and
        # nothing it writes lands in their visitor (see `writable_visitor`).
        return Visitor(uuid=rotate_visitor_cookie(request))
    return visitor


def writable_visitor(request):
    """The visitor this request may write to (traits, consent, a new visitor token): the one
    place that decides. A visitor kept by a member is written only by that member's
    authenticated requests; anyone else holding its id (an old cookie or token) is moved to a
    new anonymous visitor first, and `request.visitor_uuid` names that new one."""
    visitor = request.visitor
    visitor.uuid  # noqa: B018 - loads it (`load_visitor` rotates the id when it is not theirs)
    return visitor


def used_visitor(request) -> bool:
    """Whether this request's answer may depend on its visitor: the visitor was loaded or
    segments were resolved for it."""
    if "_personalization_resolution" in request.__dict__:
        return True
    visitor = request.__dict__.get("visitor")
    return isinstance(visitor, SimpleLazyObject) and visitor._wrapped is not empty


def keep_private(response) -> None:
    """One visitor's answer: only their browser may keep it, never a shared cache. A response
    whose view chose its caching keeps it (the API's: private, or public when nothing in it
    depends on the visitor, and then it carries no cookie)."""
    if response.has_header("Cache-Control"):
        return
    patch_cache_control(response, private=True, max_age=0)
    patch_vary_headers(response, ("Cookie",))


class VisitorMiddleware:
    """Attach `request.visitor_uuid` / `request.visitor` and keep the visitor cookie current."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cookie_uuid = read_visitor_cookie(request)
        request.visitor_uuid = cookie_uuid or uuid.uuid4()
        request.visitor = SimpleLazyObject(lambda: load_visitor(request))
        response = self.get_response(request)
        wanted = getattr(request, "visitor_cookie_uuid", None) or request.visitor_uuid
        # An API call naming its visitor by token is not a browser: it gets no cookie.
        if cookie_uuid != wanted and not getattr(request, "visitor_from_token", False):
            set_visitor_cookie(response, wanted)
        if used_visitor(request) or settings.VISITOR_COOKIE_NAME in response.cookies:
            keep_private(response)
        self._remember_campaign(request, response)
        return response

    @staticmethod
    def _remember_campaign(request, response) -> None:
        """Keep this visit's UTM values for its later pages (a browser-session cookie)."""
        try:
            campaign = {k: request.GET[k][:200] for k in UTM_KEYS if request.GET.get(k)}
        except (AttributeError, KeyError):
            return
        if campaign:
            response.set_cookie(
                CAMPAIGN_COOKIE,
                signing.dumps(campaign, salt=CAMPAIGN_SALT, compress=True),
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
