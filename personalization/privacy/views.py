"""Site endpoints for consent: the banner's form and the emails' unsubscribe link."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from personalization.consent import (
    PURPOSES,
    ConsentBelongsToMember,
    consent_defaults,
    consent_unsubscribe,
    consent_update,
    remember_consent,
)
from personalization.middleware import writable_visitor
from personalization.privacy.unsubscribe import unsubscribe_token_read

ALL = dict.fromkeys(PURPOSES, True)
NECESSARY_ONLY = dict.fromkeys(PURPOSES, False)


def _choices_from(post) -> dict[str, bool]:
    choice = post.get("choice")
    if choice == "all":
        return ALL
    if choice == "necessary":
        return NECESSARY_ONLY
    return {purpose: post.get(purpose) in ("on", "1", "true") for purpose in PURPOSES}


@require_http_methods(["GET", "POST"])
def consent_save(request: HttpRequest) -> HttpResponse:
    """GET: the "Privacy choices" page (linked from every page's footer) to change the choice
    later. POST: store the banner's or the page's choice (Accept all / Only necessary / the
    ticked purposes), in the database and the consent cookie; back to the page, or JSON."""
    if request.method == "GET":
        context = {"saved": request.GET.get("saved") == "1", "consent_page": True}
        return render(request, "privacy/consent.html", context)
    try:
        choices = consent_update(
            visitor_uuid=writable_visitor(request).uuid,
            user=request.user,
            **_choices_from(request.POST),
        )
    except ConsentBelongsToMember:  # an old browser id now kept by a member: this browser only
        choices = {**consent_defaults(), **_choices_from(request.POST)}
    remember_consent(request, choices)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(choices)
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if target and safe else "/")


# Mail clients send RFC 8058 one-click unsubscribes as a POST without a CSRF token; the signed
# token in the URL is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button; POST: marketing consent withdrawn for good."""
    who = unsubscribe_token_read(token)
    if who is None:
        return render(request, "privacy/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "GET":
        return render(request, "privacy/unsubscribe.html", {"token": token})
    consent_unsubscribe(visitor_uuid=who["v"], user_id=who.get("u"))
    return render(request, "privacy/unsubscribe.html", {"done": True})
