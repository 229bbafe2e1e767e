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

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy
from wagtail import blocks

from cms.holes import filler, recording_in
from cms.product_blocks import product_category_choices
from personalization.commerce.models import ProductPet
from personalization.commerce.recommend import recommendations_for

HOLE_KIND = "recommendations"
TEMPLATE = "blocks/recommendations_block.html"
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


@filler(HOLE_KIND)
def _fill_recommendations(settings: dict, request) -> str:
    """The visitor's own products (picked now, their impressions recorded)."""
    items = RecommendationsBlock.items_for(settings, request)
    return render_to_string(TEMPLATE, {"settings": settings, "items": items}, request=request)
