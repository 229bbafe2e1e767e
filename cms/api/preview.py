"""Headless preview: an editor mints a short-lived signed token for one page and a set of
segments; a frontend then fetches the page's latest draft, as those segments see it, with only
the token (the Wagtail headless-preview pattern). Nothing is recorded for previews."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.exceptions import AuthenticationFailed
from wagtail.models import Page

PREVIEW_SALT = "cms.api.preview-token"


@dataclass(frozen=True)
class PreviewGrant:
    """What a preview token allows: one page, as a set of segments."""

    page_id: int
    segment_ids: tuple[int, ...]
    user_id: int


def preview_token_issue(grant: PreviewGrant) -> tuple[str, datetime.datetime]:
    """(token, expiry) for `grant`, valid for API_PREVIEW_TOKEN_AGE seconds."""
    token = signing.dumps(
        {"p": grant.page_id, "s": list(grant.segment_ids), "u": grant.user_id}, salt=PREVIEW_SALT
    )
    expires_at = timezone.now() + datetime.timedelta(seconds=settings.API_PREVIEW_TOKEN_AGE)
    return token, expires_at


def _invalid() -> AuthenticationFailed:
    return AuthenticationFailed(
        gettext("The preview token is not valid."), code="preview_token_invalid"
    )


def preview_token_read(token: str) -> PreviewGrant:
    """The grant a token carries; 401 when forged, expired, or its editor may no longer edit."""
    try:
        payload = signing.loads(token, salt=PREVIEW_SALT, max_age=settings.API_PREVIEW_TOKEN_AGE)
    except signing.SignatureExpired:
        raise AuthenticationFailed(
            gettext("The preview token has expired: open the preview again."),
            code="preview_token_expired",
        ) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise _invalid() from None
    try:
        grant = PreviewGrant(
            int(payload["p"]), tuple(int(s) for s in payload["s"]), int(payload["u"])
        )
    except (KeyError, TypeError, ValueError):
        raise _invalid() from None
    if preview_page(grant) is None:
        raise _invalid()
    return grant


def preview_page(grant: PreviewGrant) -> Page | None:
    """The page of a grant, if its editor is still active staff and may still edit it."""
    user = get_user_model().objects.filter(pk=grant.user_id, is_active=True, is_staff=True).first()
    page = Page.objects.filter(pk=grant.page_id).first()
    if user is None or page is None or not page.permissions_for_user(user).can_edit():
        return None
    return page
