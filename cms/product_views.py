"""The member site's product pages: `/products/<sku>/` (and `/ja/products/<sku>/`).

A product page is one visitor's: its favourite button and recommendations are theirs, and its
price and stock are the shop's latest. It is never kept by the render cache (it is no Wagtail
page, so the cache has no route for it: its holes — the header, the button — are filled in
place) and it is sent `Cache-Control: private`, so no shared cache or edge keeps it either.
Viewing it records a `product_view` event through the event pipeline (queued after the
response, never written on the request path), under the visitor's analytics consent."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from cms.product_blocks import category_label, stock_state
from personalization.commerce.models import Product
from personalization.events.consent import request_allows_event
from personalization.events.models import EventType
from personalization.events.services import event_payload, events_track

RECOMMENDATIONS_LIMIT = 4
RECOMMENDATIONS_BLOCK_ID = "product-page"
RECOMMENDATIONS_EXPLORATION = 0.1  # the share of slots outside the visitor's interests


def product_view_track(request: HttpRequest, product: Product) -> None:
    """Queue a `product_view` event for the request's visitor (not without analytics consent,
    not for a HEAD or a preview)."""
    if request.method != "GET" or getattr(request, "is_preview", False):
        return
    if not request_allows_event(request, EventType.PRODUCT_VIEW):
        return
    user = request.user if request.user.is_authenticated else None
    events_track(
        [
            event_payload(
                visitor_uuid=request.visitor_uuid,
                user_id=user.pk if user else None,
                anonymous=user is None,
                type=EventType.PRODUCT_VIEW,
                properties={"sku": product.sku, "category": product.category},
            )
        ]
    )


def recommendations_section(request: HttpRequest, product: Product) -> list:
    """The products recommended beside this one, from the recommender
    (`recommendations_for`, the recommendations' public function); none until it exists."""
    try:
        from personalization.commerce.recommend import recommendations_for
    except ImportError:
        return []
    return list(
        recommendations_for(
            request,
            limit=RECOMMENDATIONS_LIMIT,
            exploration=RECOMMENDATIONS_EXPLORATION,
            block_id=RECOMMENDATIONS_BLOCK_ID,
            exclude_skus=[product.sku],
        )
    )


@require_safe
def product_page(request: HttpRequest, sku: str) -> HttpResponse:
    product = Product.objects.select_related("image").filter(sku=sku, active=True).first()
    if product is None:
        raise Http404("No such product")
    product_view_track(request, product)
    context = {
        "product": product,
        "stock": stock_state(product),
        "category": category_label(product.category) if product.category else "",
        "recommendations": recommendations_section(request, product),
        "recommendation_block": RECOMMENDATIONS_BLOCK_ID,
    }
    response = render(request, "commerce/product_page.html", context)
    patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response
