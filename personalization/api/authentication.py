"""Who an API call speaks for. The visitor is named by a signed visitor token (`X-Visitor-Token`,
issued by `POST /api/v1/visitors/`) or, for browser frontends on the site itself, by the visitor
cookie; the member or editor by an API token or a session. A visitor token never identifies a
user: whoever holds it sees that visitor's anonymous personalization, nothing of a member's."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from personalization.middleware import load_visitor

VISITOR_TOKEN_SALT = "personalization.api.visitor-token"
VISITOR_TOKEN_HEADER = "X-Visitor-Token"
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class VisitorToken:
    """A signed visitor token and when it stops being accepted."""

    token: str
    visitor_uuid: uuid.UUID
    expires_at: datetime.datetime


def visitor_token_issue(visitor_uuid: uuid.UUID) -> VisitorToken:
    """Sign a token naming `visitor_uuid` (valid for API_VISITOR_TOKEN_AGE seconds)."""
    token = signing.dumps({"v": str(visitor_uuid)}, salt=VISITOR_TOKEN_SALT)
    expires_at = timezone.now() + datetime.timedelta(seconds=settings.API_VISITOR_TOKEN_AGE)
    return VisitorToken(token, visitor_uuid, expires_at)


def visitor_token_read(token: str) -> uuid.UUID:
    """The visitor a token names; AuthenticationFailed (401) if forged, malformed or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed(
            gettext("The visitor token is not valid."), code="visitor_token_invalid"
        )
    try:
        payload = signing.loads(
            token, salt=VISITOR_TOKEN_SALT, max_age=settings.API_VISITOR_TOKEN_AGE
        )
    except signing.SignatureExpired:
        raise AuthenticationFailed(
            gettext("The visitor token has expired: ask POST /api/v1/visitors/ for a new one."),
            code="visitor_token_expired",
        ) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise AuthenticationFailed(
            gettext("The visitor token is not valid."), code="visitor_token_invalid"
        ) from None
    try:
        return uuid.UUID(payload["v"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise AuthenticationFailed(
            gettext("The visitor token is not valid."), code="visitor_token_invalid"
        ) from None


ERASED_KEY = "personalization:erased:{}"


def visitor_erased(visitor_uuid: uuid.UUID) -> bool:
    """Whether the visitor's data was erased (DELETE /api/v1/visitor/): its tokens are dead.

    Asked on every request with a visitor token, so the answer is cached: an erasure marks its
    visitor at once (`erasure_noted`, a receiver of ErasedVisitor), while "not erased" is kept
    only as long as a per-process cache trusts its version tokens (a few seconds; an hour with
    the shared cache, which every erasure updates)."""
    from config.version_tokens import token_ttl
    from personalization.models import ErasedVisitor

    key = ERASED_KEY.format(visitor_uuid)
    cached = cache.get(key)
    if cached is not None:
        return bool(cached)
    erased = ErasedVisitor.objects.filter(uuid=visitor_uuid).exists()
    cache.set(key, erased, None if erased else token_ttl())
    return erased


def erasure_noted(visitor_uuid) -> None:
    """Tokens of an erased visitor are refused from the next request on."""
    cache.set(ERASED_KEY.format(visitor_uuid), True, None)


def reload_visitor(request: HttpRequest) -> None:
    """Forget the loaded visitor: the next use loads it again (after its row changed)."""
    request.visitor = SimpleLazyObject(lambda: load_visitor(request))


def use_visitor(request: HttpRequest, visitor_uuid: uuid.UUID) -> None:
    """Make this request speak for `visitor_uuid`, loaded exactly as the site loads a visitor."""
    request.visitor_uuid = visitor_uuid
    request.visitor_from_token = True
    reload_visitor(request)


def server_speaks_for_visitor(request) -> bool:
    """Whether a staff caller (the shop's server) names the visitor it acts for by
    X-Visitor-Token: then the visitor, not the staff account, is the subject of the call."""
    return request.user.is_staff and getattr(request._request, "visitor_from_token", False)


class VisitorTokenAuthentication(BaseAuthentication):
    """Reads `X-Visitor-Token` into the request's visitor; never authenticates a user.

    It always returns None so that the member's token or session is still read after it; a
    token that is present but forged or expired is refused with 401."""

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_VISITOR_TOKEN")
        if raw is None:
            return None
        visitor_uuid = visitor_token_read(raw.strip())
        if visitor_erased(visitor_uuid):
            raise AuthenticationFailed(
                gettext(
                    "This visitor's data was erased: ask POST /api/v1/visitors/ (without this "
                    "token) for a new visitor token."
                ),
                code="visitor_token_erased",
            )
        use_visitor(request._request, visitor_uuid)
        return None

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class VisitorTokenScheme(OpenApiAuthenticationExtension):
    """Documents the visitor token as an API-key header in the OpenAPI schema."""

    target_class = VisitorTokenAuthentication
    name = "visitorToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": VISITOR_TOKEN_HEADER,
            "description": "Signed visitor token from POST /api/v1/visitors/.",
        }
