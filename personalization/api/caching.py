"""Cache headers of API responses: what depends on the visitor is private and varies on the
identity and the reported context; what is the same for everyone may be public, with an ETag,
and then carries no cookie at all (a shared cache must never hand one visitor's id to another)."""

from __future__ import annotations

import hashlib
import json

from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework.response import Response

IDENTITY_HEADERS = ("Cookie", "X-Visitor-Token", "Authorization")
CONTEXT_HEADERS = ("X-Page-Url", "X-Referrer", "X-Visitor-User-Agent", "User-Agent")


class PublicResponse(Response):
    """A response any cache may share: it refuses every cookie (visitor, campaign, session)."""

    def set_cookie(self, key, *args, **kwargs) -> None:
        return None

    def delete_cookie(self, key, *args, **kwargs) -> None:
        return None


def mark_private(response, *, store: bool = True):
    """Personalized: only the visitor's own browser may keep it (`no-store` for personal data)."""
    if store:
        patch_cache_control(response, private=True, max_age=0)
    else:
        patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, IDENTITY_HEADERS + CONTEXT_HEADERS)
    return response


def etag_for(data) -> str:
    """A strong ETag of a JSON-serialisable body."""
    encoded = json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'


def public_response(request, data, *, max_age: int) -> Response:
    """The same for everyone: public for `max_age` seconds, 304 when the client has it."""
    etag = etag_for(data)
    sent = {
        t.strip().removeprefix("W/") for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")
    }
    fresh = etag in sent or "*" in sent
    response = PublicResponse(None if fresh else data, status=304 if fresh else 200)
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=max_age)
    patch_vary_headers(response, ("Accept",))
    return response
