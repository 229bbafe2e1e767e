"""The bounds every stored value keeps: numbers clamped to what people could mean, JSON that
every database stores, places in a JSON document named as people write them. Pure: no Django.
Used by the attribute context and the API's parser here, and by the event pipeline's checks
and rollups (`personalization.events.properties`), so reading and writing never disagree."""

from __future__ import annotations

import math

MAX_DEPTH = 64  # objects and arrays inside one another, `properties` itself the first


MAX_QUANTITY = 10_000


MAX_AMOUNT = 10**9  # yen: a price or an order total


Path = tuple[str | int, ...]


def json_path(path: Path) -> str:
    """A place in a JSON document as people write it: `items[2].price`."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    return text


def storable(value: str) -> bool:
    """Whether a string can be stored as text or JSON everywhere (no NUL, valid UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _number(value) -> float | None:
    """A stored value as a float (a numeric string included; infinity for a number too large
    for one), or None when it is no number at all."""
    if type(value) is bool:
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer (or Decimal) beyond any float
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def clamp_quantity(value) -> int:
    """A stored quantity as the rollups and the context may use it: a whole number from 1 to
    MAX_QUANTITY, whatever was stored (an old row may hold anything; 1 when it is no number)."""
    if type(value) is int:
        return min(max(value, 1), MAX_QUANTITY)
    number = _number(value)
    return 1 if number is None else int(min(max(number, 1.0), MAX_QUANTITY))


def clamp_amount(value) -> float:
    """A stored price or amount as the rollups and the context may use it: a finite number
    from 0 to MAX_AMOUNT, whatever was stored (0 when it is no number)."""
    if type(value) is int:
        return float(min(max(value, 0), MAX_AMOUNT))
    number = _number(value)
    return 0.0 if number is None else min(max(number, 0.0), float(MAX_AMOUNT))


MAX_COUNT = 2**53  # the largest integer every JSON reader (JavaScript's included) keeps exact


def clamp_count(value) -> int:
    """A stored counter as the rollups and the context may use it: 0 to MAX_COUNT."""
    if type(value) is int:
        return min(max(value, 0), MAX_COUNT)
    number = _number(value)
    return 0 if number is None else int(min(max(number, 0.0), MAX_COUNT))
