"""`{% page_listing_marks page %}`: the personalized / in-an-experiment marks of a listed page."""

from __future__ import annotations

from django import template

from cms.listing_marks import page_marks

register = template.Library()


@register.inclusion_tag("cms/admin/page_listing_marks.html")
def page_listing_marks(page) -> dict:
    if page is None or not getattr(page, "pk", None) or page.is_root():
        return {"marks": None}
    return {"marks": page_marks(page)}
