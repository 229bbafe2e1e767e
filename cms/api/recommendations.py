"""The recommendations block in the page API: the same products, in the same order and with the
same arms, as the site shows the same visitor (both ask `recommendations_for`, memoized per
request and seeded per visitor, day and block).

The block's JSON (`value`): its settings and `items`, each ``{"position", "arm", "block",
"product": {sku, name, category, pet_type, price, stock, stock_state, image, url, shop_url}}``;
the response's ``meta.blocks`` lists ``{"type": "recommendations", "block", "items": [{"sku",
"arm"}]}``. Built for the render cache, the block is a hole (kind ``recommendations``, payload
its settings): the shared document holds markers, filled per request.

Registered on the block when the cms app is ready (`cms.apps`): the block module knows nothing of
the API, so neither imports the other's package in a cycle.
"""

from __future__ import annotations

from cms.api.holes import filler, marker
from cms.api.resolve import image_json
from cms.product_blocks import product_json
from cms.recommendation_blocks import API_JSON, HOLE_KIND, RecommendationsBlock


def recommendations_document(settings: dict, request) -> dict:
    """{"value": the block's JSON, "meta": its entry in `meta.blocks`} for this request."""
    items = RecommendationsBlock.items_for(settings, request)
    value = {
        **settings,
        "items": [
            {
                "position": item.position,
                "arm": item.arm,
                "block": item.block,
                "product": product_json(item.product, request, image_json),
            }
            for item in items
        ],
    }
    meta = {
        "type": "recommendations",
        "block": settings.get("key"),
        "items": [{"sku": item.sku, "arm": item.arm} for item in items],
    }
    return {"value": value, "meta": meta}


def recommendations_json(block: RecommendationsBlock, value, state) -> dict:
    """The block's JSON for the visitor of `state` (`cms.api.resolve.BodyResolution`), or a
    marker when the document is built for the render cache."""
    settings = block.settings_of(value)
    state.personalized = True
    if state.recording is not None:
        index = state.recording.hole(HOLE_KIND, settings)
        state.blocks.append(marker(index, "meta"))
        return marker(index, "value")
    document = recommendations_document(settings, state.request)
    state.blocks.append(document["meta"])
    return document["value"]


@filler(HOLE_KIND)
def _fill_recommendations(settings: dict, request) -> dict:
    return recommendations_document(settings, request)


def install() -> None:
    """Give the block its API JSON (once per process)."""
    API_JSON[:] = [recommendations_json]
