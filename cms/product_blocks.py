"""Product cards on the member site: the `ProductListBlock` editors place in page bodies (the
products of a category, of a pet, or chosen ones), and the favourite button every card shows.

What a card shows — name, picture, price, stock — is the same for every visitor, so a list
belongs in the render cache's shared body (and catalogue changes start a new content
generation, `cms.signals`). Whether the visitor has favourited a product is theirs alone: the
whole button is a hole (kind ``favourite``, payload the SKU and name), filled per request from
the visitor's favourites (`visitor_favourite_skus`). The API's JSON of the block lists the same
products in the same order; a frontend reads the visitor's favourites from
`GET /api/v1/favourites/`.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from cms.holes import filler, recording_in
from personalization.commerce.models import Favourite, Product, ProductPet

FAVOURITE_HOLE = "favourite"
# The page API's image JSON (`cms.api.resolve.image_json`), set by the API when it loads: the
# API's package imports the blocks, so the blocks do not import it back.
API_IMAGE_JSON: list = []
LOW_STOCK = 3  # "only N left" from this many down, unless COMMERCE_LOW_STOCK says otherwise
DEFAULT_LIMIT = 8
MAX_LIMIT = 24

# The catalogue's categories as the site names them (a category the shop adds later is shown
# by its slug until it gets a name here).
CATEGORY_LABELS = {
    "food": gettext_lazy("Food"),
    "treats": gettext_lazy("Treats"),
    "toys": gettext_lazy("Toys"),
    "care": gettext_lazy("Care"),
    "beds": gettext_lazy("Beds"),
    "walking": gettext_lazy("Walking"),
    "litter": gettext_lazy("Litter"),
}


def category_label(slug: str) -> str:
    return str(CATEGORY_LABELS.get(slug, slug.replace("-", " ").capitalize()))


def product_category_choices() -> list[tuple[str, str]]:
    """The categories of the catalogue for the editor's dropdown (read when the form is drawn)."""
    used = Product.objects.exclude(category="").values_list("category", flat=True).distinct()
    slugs = sorted(set(used) | set(CATEGORY_LABELS))
    return [(slug, category_label(slug)) for slug in slugs]


def low_stock() -> int:
    """Up to how many left a product is "low in stock" (as the favourites' segments count)."""
    return getattr(settings, "COMMERCE_LOW_STOCK", LOW_STOCK)


def stock_state(product: Product) -> dict:
    """What a shopper reads about the stock: in stock, only N left, out of stock."""
    if product.stock <= 0:
        return {"state": "out_of_stock", "count": 0}
    if product.stock <= low_stock():
        return {"state": "low", "count": product.stock}
    return {"state": "in_stock", "count": product.stock}


def product_url(product: Product) -> str:
    """The product's page on the site, in the active language."""
    try:
        return reverse("product-page", args=[product.sku])
    except NoReverseMatch:
        return ""


# THE VISITOR'S FAVOURITES
# ------------------------------------------------------------------------------


def visitor_favourite_skus(request) -> set[str]:
    """The SKUs the request's visitor has favourited (once per request). The favourites'
    selector reads the visitor's rollup; until it exists, the visitor's rows."""
    if request is None:
        return set()
    memo = getattr(request, "_favourite_skus", None)
    if memo is not None:
        return memo
    visitor = getattr(request, "visitor", None)
    skus: set[str] = set()
    if visitor is not None and getattr(visitor, "pk", None):
        try:
            from personalization.commerce.favourites import favourite_skus
        except ImportError:  # the favourites' services not there yet: their rows
            skus = set(
                Favourite.objects.filter(visitor=visitor).values_list("product__sku", flat=True)
            )
        else:
            skus = set(favourite_skus(visitor))
    request._favourite_skus = skus
    return skus


def favourite_button_html(payload: dict, request, *, favourited: bool | None = None) -> str:
    """The favourite button of one product (`payload`: its sku and name) for this request."""
    if favourited is None:
        favourited = payload["sku"] in visitor_favourite_skus(request)
    return render_to_string(
        "commerce/favourite_button.html",
        {"sku": payload["sku"], "name": payload["name"], "favourited": favourited},
        request=request,
    )


def favourite_button(context, product: Product, favourited: bool | None = None) -> str:
    """The button in a template: a hole while the page renders for the render cache (whatever
    `favourited` the caller knows: it is one visitor's), else rendered for the request."""
    payload = {"sku": product.sku, "name": product.name}
    recording = recording_in(context)
    if recording is not None:
        return recording.placeholder(FAVOURITE_HOLE, payload)
    return favourite_button_html(payload, context.get("request"), favourited=favourited)


@filler(FAVOURITE_HOLE)
def _fill_favourite(payload: dict, request) -> str:
    return favourite_button_html(payload, request)


# THE BLOCK
# ------------------------------------------------------------------------------


class ProductListBlock(blocks.StructBlock):
    """Product cards: the chosen products, else the active products of a category and/or a pet
    (products for every pet included): in stock first, then shelf by shelf (food, treats, …),
    cheapest first."""

    # What it shows follows the catalogue: a cached page holding one is kept under the
    # catalogue's version too (`cms.render_cache.usage`).
    depends_on_catalogue = True

    heading = blocks.CharBlock(required=False, max_length=120, label=gettext_lazy("Heading"))
    category = blocks.ChoiceBlock(
        choices=product_category_choices,
        required=False,
        label=gettext_lazy("Category"),
        help_text=gettext_lazy("Products of this category (leave empty for every category)."),
    )
    pet_type = blocks.ChoiceBlock(
        choices=ProductPet.choices,
        required=False,
        label=gettext_lazy("Pet"),
        help_text=gettext_lazy("Products for this pet, and those for every pet."),
    )
    products = blocks.ListBlock(
        SnippetChooserBlock("commerce.Product"),
        required=False,
        default=[],
        label=gettext_lazy("Chosen products"),
        help_text=gettext_lazy("Show these products, in this order, instead of a category."),
    )
    limit = blocks.IntegerBlock(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, label=gettext_lazy("At most")
    )

    class Meta:
        label = gettext_lazy("Product list")
        icon = "tag"
        template = "blocks/product_list_block.html"

    hole_kind = FAVOURITE_HOLE  # each card's favourite button

    @staticmethod
    def products_for(value) -> list[Product]:
        """The products the block shows (the same for every visitor): one query."""
        limit = value.get("limit") or DEFAULT_LIMIT
        chosen = [p.pk for p in (value.get("products") or []) if p is not None]
        queryset = Product.objects.filter(active=True).select_related("image")
        if chosen:
            found = queryset.in_bulk(chosen)
            return [found[pk] for pk in dict.fromkeys(chosen) if pk in found][:limit]
        if value.get("category"):
            queryset = queryset.filter(category=value["category"])
        pet = value.get("pet_type")
        if pet and pet != ProductPet.ANY:
            queryset = queryset.filter(pet_type__in=[pet, ProductPet.ANY])
        elif pet == ProductPet.ANY:
            queryset = queryset.filter(pet_type=ProductPet.ANY)
        sold_out = Case(When(stock=0, then=Value(1)), default=Value(0), output_field=IntegerField())
        shelf = Case(
            *(When(category=slug, then=Value(n)) for n, slug in enumerate(CATEGORY_LABELS)),
            default=Value(len(CATEGORY_LABELS)),
            output_field=IntegerField(),
        )
        return list(queryset.order_by(sold_out, shelf, "category", "price", "sku")[:limit])

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["products"] = self.products_for(value)
        return context

    def api_json(self, value, state) -> dict:
        """The block in the page API: its settings and the products the site shows."""
        image_json = API_IMAGE_JSON[0]
        request = state.request
        return {
            "heading": value.get("heading") or "",
            "category": value.get("category") or "",
            "pet_type": value.get("pet_type") or "",
            "products": [product_json(p, request, image_json) for p in self.products_for(value)],
        }


def product_json(product: Product, request, image_json) -> dict:
    """A product as the page API shows it in lists (`favourites`: GET /api/v1/favourites/)."""
    stock = stock_state(product)
    path = product_url(product)
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "pet_type": product.pet_type,
        "price": product.price,
        "stock": product.stock,
        "stock_state": stock["state"],
        "image": image_json(product.image, request, alt="") if product.image_id else None,
        "url": request.build_absolute_uri(path) if path else None,
        "shop_url": product.url,
    }
