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

import uuid

from django.core.cache import cache
from django.db.models import Count, Max

from config import version_tokens

CATALOGUE_KEY = version_tokens.register("commerce:catalogue")


def _ttl() -> int | None:
    from personalization.resolver import version_token_ttl  # the resolver reads commerce

    return version_token_ttl()


def catalogue_version() -> str:
    """The current token (from the request's snapshot of tokens, else the cache, else the
    database)."""
    token = version_tokens.read(CATALOGUE_KEY)
    if token:
        return token
    from personalization.commerce.models import Product

    found = Product.objects.aggregate(count=Count("id"), last=Max("updated_at"))
    last = found["last"].timestamp() if found["last"] else 0
    token = f"db{found['count']}.{last:.6f}"
    cache.set(CATALOGUE_KEY, token, _ttl())
    version_tokens.remember(CATALOGUE_KEY, token)
    return token


def catalogue_bump() -> None:
    """Everything kept under the catalogue's token is stale from the next read on."""
    token = uuid.uuid4().hex
    cache.set(CATALOGUE_KEY, token, _ttl())
    version_tokens.remember(CATALOGUE_KEY, token)
