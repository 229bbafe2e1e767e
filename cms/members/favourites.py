""" "My favourites" in the member area: the products the member keeps, each with a remove
button (a plain form: it works without JavaScript). Favourites an anonymous visitor made
before logging in or joining are the member's already (moved by the favourites' merge)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from personalization.commerce.models import Favourite, Product


def member_favourites(visitor) -> list[Favourite]:
    """The visitor's favourites, newest first, with their products and pictures (one query)."""
    if visitor is None or not getattr(visitor, "pk", None):
        return []
    return list(
        Favourite.objects.filter(visitor=visitor)
        .select_related("product", "product__image")
        .order_by("-created_at", "-pk")
    )


@login_required
@require_http_methods(["GET", "POST"])
def favourites(request: HttpRequest) -> HttpResponse:
    visitor = request.visitor
    if request.method == "POST":
        from personalization.commerce.favourites import favourite_remove

        product = Product.objects.filter(sku=request.POST.get("sku", "")).first()
        if product is not None and visitor.pk and favourite_remove(visitor, product):
            messages.success(
                request, _("%(name)s is no longer a favourite.") % {"name": product.name}
            )
        return redirect("account_favourites")
    return render(request, "account/favourites.html", {"favourites": member_favourites(visitor)})
