"""The catalogue's version: a token that changes whenever the catalogue does.

What is built from the catalogue and kept (rendered product lists in the render cache, each
process's snapshot of the products recommendations pick from) is kept under this token, so a
change of price, stock, name, picture or active flag makes it new — without touching anything
that does not show products (a busy feed no longer empties the whole render cache).

The token lives in the default cache with the other version tokens (`config.version_tokens`:
read once per request, in the same round trip). It is bumped when a catalogue change commits
(`products_changed`, `commerce.receivers`) and when a product is deleted. When the cache has
none (the embedded per-process cache expires it every few seconds, so a change made by another
process shows there too), it is derived from the products themselves: their number and the last
`updated_at` (the feed's set-based writes set it too).
"""

from __future__ import annotations

from django.db.models import Count, Max

from config import version_tokens


def _products_state() -> str:
    """The token derived from the products (when the cache has none)."""
    from personalization.commerce.models import Product

    found = Product.objects.aggregate(count=Count("id"), last=Max("updated_at"))
    last = found["last"].timestamp() if found["last"] else 0
    return f"db{found['count']}.{last:.6f}"


# `catalogue_version()`: the current token; `catalogue_bump()`: everything kept under the
# catalogue's token is stale from the next read on.
catalogue_version = version_tokens.VersionToken("commerce:catalogue", _products_state)
CATALOGUE_KEY = catalogue_version.key
catalogue_bump = catalogue_version.bump
