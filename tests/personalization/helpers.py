"""Test helpers: browse as a given visitor, and run queued jobs the way the site does."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

from personalization.middleware import VISITOR_SALT


def signed_visitor_cookie(visitor_uuid) -> str:
    response = HttpResponse()
    response.set_signed_cookie(settings.VISITOR_COOKIE_NAME, str(visitor_uuid), salt=VISITOR_SALT)
    return response.cookies[settings.VISITOR_COOKIE_NAME].value


def browse_as(client, visitor) -> None:
    """Make `client` carry `visitor`'s signed cookie, as their browser would."""
    client.cookies[settings.VISITOR_COOKIE_NAME] = signed_visitor_cookie(visitor.uuid)


def chosen_segment(html: str) -> str:
    """The data-segment of the first personalized block on a page."""
    marker = 'class="personalized" data-segment="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
