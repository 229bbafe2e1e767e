"""Tracked links in journey emails: a product's link goes through /journeys/link/<token>/, which
counts the opening on the message (`clicks`, `first_clicked_at`) and redirects to the page.

The token is signed and names the message by its entry and step (unique together) and the path
to open on this site, so a link cannot be turned into a redirect elsewhere."""

from __future__ import annotations

from django.core import signing
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from personalization.journeys.models import JourneyMessage
from personalization.privacy.unsubscribe import absolute_url

LINK_SALT = "personalization.journeys.link"


def tracked_url(*, entry_id: int, step_id: int, path: str) -> str:
    """The absolute URL that counts an opening of `path` for the message of this entry and
    step, then opens it."""
    token = signing.dumps({"e": entry_id, "s": step_id, "p": path}, salt=LINK_SALT, compress=True)
    return absolute_url(reverse("journey_link", args=[token]))


def link_read(token: str) -> dict | None:
    """Entry, step and path of a token we signed, or None."""
    try:
        value = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict):
        return None
    path = value.get("p")
    local = isinstance(path, str) and path.startswith("/") and not path.startswith(("//", "/\\"))
    if not local or not isinstance(value.get("e"), int) or not isinstance(value.get("s"), int):
        return None
    return value


@never_cache  # each opening must reach us: no shared cache may keep the redirect
@require_safe
def link_open(request, token: str):
    """Count the opening (GET only: a HEAD from a link checker does not count), then go."""
    value = link_read(token)
    if value is None:
        raise Http404("Unknown link")
    if request.method == "GET":
        JourneyMessage.objects.filter(entry_id=value["e"], step_id=value["s"]).update(
            clicks=F("clicks") + 1,
            first_clicked_at=Coalesce(F("first_clicked_at"), timezone.now()),
        )
    return HttpResponseRedirect(value["p"])
