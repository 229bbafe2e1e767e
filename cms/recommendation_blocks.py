"""The "picked for you" block: products the recommender (`personalization.commerce.recommend`)
picks for the visitor, with an exploration share editors set per block.

Everything it shows belongs to one visitor, so in the render cache the whole block is a hole
(kind ``recommendations``): the shared body keeps only the block's settings, and each request
fills it with its own visitor's products (one SQL query; see `docs/benchmarks.md`). Impressions
are recorded as `recommendation_impression` events when the products are picked for a visitor
(queued, never written on the request path: `personalization.events.recommendations`), clicks
by the cards' script (`cms/js/recommendations.js`) as `recommendation_click`.

Placed in an A/B test's variants with different exploration shares (0 %, 10 %, 20 % …) it
tests recommendation strategies like any content; placed in per-segment variants with a category
or pet filter, it gives each segment its own selection.
"""

from __future__ import annotations

import re

from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from wagtail import blocks

from cms.holes import RenderRecording, filler, recording_in
from cms.product_blocks import (
    FAVOURITE_HOLE,
    product_category_choices,
    visitor_favourite_skus,
)
from personalization.commerce.models import ProductPet
from personalization.commerce.recommend import recommendations_for
from personalization.commerce.snapshot import catalogue_snapshot

HOLE_KIND = "recommendations"
TEMPLATE = "blocks/recommendations_block.html"
CARD_TEMPLATE = "commerce/product_card.html"
FAVOURITE_TEMPLATE = "commerce/favourite_button.html"
DEFAULT_KEY = "picked-for-you"
MAX_LIMIT = 24
SETTINGS = ("heading", "key", "limit", "exploration", "category", "pet_type")
# The block's JSON in the page API, set when the cms app is ready (`cms.api.recommendations`):
# the API's package imports the blocks, so the blocks do not import it back.
API_JSON: list = []


class RecommendationsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        max_length=120, default="Picked for you", label=gettext_lazy("Heading")
    )
    key = blocks.RegexBlock(
        regex=r"^[a-z0-9][a-z0-9-]{0,63}$",
        default=DEFAULT_KEY,
        error_messages={"invalid": gettext_lazy("Use lower-case letters, digits and hyphens.")},
        help_text=gettext_lazy(
            "Names the block in the recommendations report, e.g. home-picks. Give the variants "
            "of one A/B test the same name to compare them there too."
        ),
        label=gettext_lazy("Report name"),
    )
    limit = blocks.IntegerBlock(
        min_value=1, max_value=MAX_LIMIT, default=4, label=gettext_lazy("Number of products")
    )
    exploration = blocks.IntegerBlock(
        min_value=0,
        max_value=100,
        default=10,
        help_text=gettext_lazy(
            "Share of the products (%) chosen from categories the visitor has not shown "
            "interest in yet, so they discover something new."
        ),
        label=gettext_lazy("Exploration share (%)"),
    )
    category = blocks.ChoiceBlock(
        choices=product_category_choices,
        required=False,
        help_text=gettext_lazy("Only products of this category (leave empty for all)."),
        label=gettext_lazy("Category"),
    )
    pet_type = blocks.ChoiceBlock(
        choices=ProductPet.choices,
        required=False,
        help_text=gettext_lazy(
            "Only products for this pet (and for every pet). Empty: the visitor's own pet."
        ),
        label=gettext_lazy("Pet"),
    )

    class Meta:
        label = gettext_lazy("Recommendations")
        icon = "pick"
        group = gettext_lazy("Personalization")
        template = TEMPLATE

    hole_kind = HOLE_KIND  # one visitor's products: never in a shared render

    @staticmethod
    def settings_of(value) -> dict:
        """The block's settings as plain data (the hole's payload)."""
        return {name: value.get(name) for name in SETTINGS}

    @staticmethod
    def items_for(settings: dict, request) -> list:
        """The recommendations this request's visitor sees in a block with these settings."""
        if request is None:
            return []
        return recommendations_for(
            request,
            limit=int(settings.get("limit") or 4),
            exploration=int(settings.get("exploration") or 0) / 100,
            block_id=settings.get("key") or DEFAULT_KEY,
            category=settings.get("category") or "",
            pet=settings.get("pet_type") or "",
        )

    def api_json(self, value, state) -> dict:
        """The block in the page API (`cms.api.recommendations.recommendations_json`)."""
        return API_JSON[0](self, value, state)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        request = (parent_context or {}).get("request")
        context["items"] = self.items_for(self.settings_of(value), request)
        context["settings"] = self.settings_of(value)
        return context

    def render(self, value, context=None):
        recording = recording_in(context)
        if recording is None:
            return super().render(value, context)
        return recording.placeholder(self.hole_kind, self.settings_of(value))


# SERVING THE BLOCK
# ------------------------------------------------------------------------------
# A card's HTML is the same for every visitor but for the block's name and the arm (attributes)
# and the favourite button (the visitor's own state and CSRF token). Each card is rendered once
# per catalogue token and language with slots in their places — kept with the catalogue's
# snapshot, so a catalogue change renders it anew — and the favourite button likewise once per
# product, language and state with a slot for the token. Serving the block joins the parts: the
# same HTML the templates render (`tests/commerce/test_recommendations.py` compares them).

# Private-use characters, never produced by escaping (as `cms.holes`' placeholders).
BLOCK_SLOT, ARM_SLOT, CSRF_SLOT = "\ue002b\ue003", "\ue002a\ue003", "\ue002c\ue003"
_SLOTS = re.compile("(\ue002[bac]\ue003|\ue000\\d+\ue001)")


class _CardRecording:
    """Stands for the request while a card is rendered for keeping: as in a render for the
    render cache, the favourite button leaves a hole (`cms.product_blocks.favourite_button`)."""

    def __init__(self):
        self._render_recording = RenderRecording()


def _parts(html: str) -> tuple[str, ...]:
    """Literal text at even indexes, slots at odd ones."""
    return tuple(_SLOTS.split(html))


def card_parts(snapshot, product) -> tuple[str, ...] | None:
    """The card of `product` with its slots (None: the card holds a hole we cannot fill here,
    so the block is rendered by its template)."""
    key = ("recommendation-card", product.sku, translation.get_language())
    parts = snapshot.derived_get(key)
    if parts is None:
        stand_in = _CardRecording()
        html = get_template(CARD_TEMPLATE).render(
            {
                "product": product,
                "favourited": None,
                "recommendation": {"block": BLOCK_SLOT, "arm": ARM_SLOT},
                "block_id": BLOCK_SLOT,
                "request": stand_in,
            }
        )
        holes = stand_in._render_recording.holes
        parts = _parts(html) if all(kind == FAVOURITE_HOLE for kind, _ in holes) else ()
        snapshot.derived_set(key, parts)
    return parts or None


def favourite_parts(snapshot, sku: str, name: str, favourited: bool) -> tuple[str, ...]:
    key = ("favourite-button", sku, translation.get_language(), favourited)
    parts = snapshot.derived_get(key)
    if parts is None:
        html = get_template(FAVOURITE_TEMPLATE).render(
            {"sku": sku, "name": name, "favourited": favourited, "csrf_token": CSRF_SLOT}
        )
        parts = _parts(html)
        snapshot.derived_set(key, parts)
    return parts


def _join(parts: tuple[str, ...], values: dict, hole: str = "") -> str:
    """The parts with each slot's value (a hole's: `hole`)."""
    return "".join(
        part if index % 2 == 0 else values.get(part, hole) for index, part in enumerate(parts)
    )


def block_html(settings: dict, items: list, request) -> str | None:
    """The block's HTML for this request from the kept parts (None: render the template)."""
    if not items:
        return render_to_string(TEMPLATE, {"settings": settings, "items": items})
    snapshot = catalogue_snapshot()
    token = conditional_escape(get_token(request))
    favourites = visitor_favourite_skus(request)
    cards = []
    for item in items:
        product = item.product
        parts = card_parts(snapshot, product)
        if parts is None:
            return None
        button = favourite_parts(snapshot, product.sku, product.name, product.sku in favourites)
        values = {BLOCK_SLOT: conditional_escape(item.block)}
        values[ARM_SLOT] = conditional_escape(item.arm)
        card = _join(parts, values, hole=_join(button, {CSRF_SLOT: token}))
        cards.append(mark_safe(card))  # noqa: S308 - the templates' parts, values escaped
    head, between, tail = block_parts(snapshot, settings)
    values = {CSRF_SLOT: token}
    return _join(head, values) + _join(between, values).join(cards) + _join(tail, values)


def block_parts(snapshot, settings: dict) -> tuple:
    """The block around its cards, with the CSRF token's slot: (before the first card, between
    two cards, after the last), each as parts."""
    key = ("recommendations-block", tuple(sorted(settings.items())), translation.get_language())
    parts = snapshot.derived_get(key)
    if parts is None:
        first, second = "\ue002x\ue003", "\ue002y\ue003"
        html = get_template(TEMPLATE).render(
            {
                "settings": settings,
                "items": [{"html": mark_safe(first)}, {"html": mark_safe(second)}],  # noqa: S308
                "csrf_token": CSRF_SLOT,
            }
        )
        head, rest = html.split(first)
        between, tail = rest.split(second)
        parts = (_parts(head), _parts(between), _parts(tail))
        snapshot.derived_set(key, parts)
    return parts


@filler(HOLE_KIND)
def _fill_recommendations(settings: dict, request) -> str:
    """The visitor's own products (picked now, their impressions recorded)."""
    items = RecommendationsBlock.items_for(settings, request)
    html = block_html(settings, items, request) if request is not None else None
    if html is not None:
        return html
    return render_to_string(TEMPLATE, {"settings": settings, "items": items}, request=request)
