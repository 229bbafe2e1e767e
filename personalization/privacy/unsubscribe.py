"""One-click unsubscribe links: a signed token naming whom a link is for, and its URL."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "personalization.unsubscribe"  # unchanged: links already sent keep working


def unsubscribe_token(*, visitor_uuid, user_id: int | None) -> str:
    """A signed, non-expiring token naming whom an unsubscribe link is for."""
    return signing.dumps({"v": str(visitor_uuid), "u": user_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> dict | None:
    """(visitor uuid, user id) of a token, or None when it was not signed by us."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) and "v" in value else None


def absolute_url(path: str) -> str:
    """`path` on the site's public address (for links in emails)."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def unsubscribe_url(*, visitor_uuid, user_id: int | None) -> str:
    token = unsubscribe_token(visitor_uuid=visitor_uuid, user_id=user_id)
    return absolute_url(reverse("personalization_unsubscribe", args=[token]))
