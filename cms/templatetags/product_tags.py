"""Product cards' template tags: `{% favourite_button product %}` (a render-cache hole, see
`cms.product_blocks`) and `{{ product|stock_state }}`."""

from __future__ import annotations

from django import template

from cms import product_blocks

register = template.Library()


@register.simple_tag(takes_context=True)
def favourite_button(context, product, favourited=None):
    """The product's favourite button for the visitor (`favourited`: when the caller knows)."""
    return product_blocks.favourite_button(context, product, favourited)


@register.filter
def stock_state(product) -> dict:
    return product_blocks.stock_state(product)


@register.filter
def category_label(slug: str) -> str:
    return product_blocks.category_label(slug or "")
