"""What an event's `properties` may hold: JSON that every database can store (storable strings,
finite numbers, bounded nesting) and, for known event types, typed properties within sane
bounds. One table (`EVENT_PROPERTIES`) that the events API checks before accepting an event, the
worker checks before storing one, the rollups clamp to and the API schema documents, so they
can never disagree. Pure: no Django, plain data in and out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from personalization.bounds import (  # noqa: F401 - clamps re-exported for the rollups
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_DEPTH,
    MAX_QUANTITY,
    Path,
    clamp_amount,
    clamp_count,
    clamp_quantity,
    json_path,
    storable,
)

MAX_ITEMS = 100  # entries of a list property (categories)

INTEGER, NUMBER, STRING, STRING_LIST = "integer", "number", "string", "array of strings"


class PropertiesRefused(ValueError):
    """Properties that cannot be accepted: `path` names the place inside them (empty for the
    object as a whole) and `message` says why."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{json_path(path) or 'properties'}: {message}")
        self.path = path
        self.message = message


# WHAT ANY PROPERTIES MAY HOLD
# ------------------------------------------------------------------------------

_Where = tuple | None  # (parent place, key) chains, turned into a Path only when refusing


def _path_of(where: _Where) -> Path:
    steps: list[str | int] = []
    while where is not None:
        where, step = where
        steps.append(step)
    return tuple(reversed(steps))


def json_bytes_at_most(value, *, max_depth: int = MAX_DEPTH) -> int:
    """At least as many bytes as `value` takes as compact UTF-8 JSON, in one iterative walk
    (no recursion, however deep the value) without encoding it: each string character counts
    6 bytes (the longest it can become, `\\u0000`), so the bound is cheap and never too small.
    Raises `PropertiesRefused` for a string that cannot be stored, a number that is not
    finite, nesting deeper than `max_depth`, or anything that is not JSON."""
    total = 0
    stack: list[tuple] = [(value, 1, None)]
    while stack:
        item, depth, where = stack.pop()
        kind = type(item)
        if kind is str:
            if not storable(item):
                raise PropertiesRefused(
                    _path_of(where), "Contains characters that cannot be stored."
                )
            total += 2 + 6 * len(item)
        elif kind is dict or kind is list:
            if depth > max_depth:
                raise PropertiesRefused((), f"Nested more than {max_depth} levels deep.")
            total += 2 + (2 * len(item) if kind is dict else len(item))
            pairs = item.items() if kind is dict else enumerate(item)
            for key, inner in pairs:
                if kind is dict:
                    if type(key) is not str or not storable(key):
                        message = "A key contains characters that cannot be stored."
                        raise PropertiesRefused(_path_of(where), message)
                    total += 2 + 6 * len(key)
                stack.append((inner, depth + 1, (where, key)))
        elif kind is int:
            total += item.bit_length() * 30103 // 100000 + 2  # digits of 2**bits, and a sign
        elif kind is float:
            if not math.isfinite(item):
                raise PropertiesRefused(_path_of(where), "Must be a finite number.")
            total += 24  # the longest repr: -1.2345678901234567e-308
        elif kind is bool or item is None:
            total += 5
        else:
            raise PropertiesRefused(_path_of(where), "Is not a JSON value.")
    return total


# TYPED PROPERTIES OF KNOWN EVENT TYPES
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypedProperty:
    """A property with a meaning: the rollups, the experiments or the journeys read it."""

    name: str
    kind: str
    help: str
    minimum: int | None = None
    maximum: int | None = None

    def describe(self) -> str:
        """One line for the docs and the API schema."""
        bounds = ""
        if self.minimum is not None and self.maximum is not None:
            bounds = f", {self.minimum:,}–{self.maximum:,}"
        elif self.kind == STRING_LIST:
            bounds = f", at most {MAX_ITEMS}"
        return f"`{self.name}` ({self.kind}{bounds}): {self.help}"

    def problem(self, value) -> tuple[Path, str] | None:
        """Where and why `value` does not fit this property (None when it does)."""
        kind = type(value)
        if self.kind == STRING:
            return None if kind is str else ((), "Must be a string.")
        if self.kind == STRING_LIST:
            return _string_list_problem(value)
        if self.kind == INTEGER and kind is not int:
            return (), "Must be a whole number (a JSON integer)."
        if self.kind == NUMBER and kind is not int and kind is not float:
            return (), "Must be a number."
        if not (self.minimum <= value <= self.maximum):
            return (), f"Must be between {self.minimum:,} and {self.maximum:,}."
        return None


def _string_list_problem(value) -> tuple[Path, str] | None:
    if type(value) is not list:
        return (), "Must be an array of strings."
    if len(value) > MAX_ITEMS:
        return (), f"Must have at most {MAX_ITEMS} entries."
    for index, item in enumerate(value):
        if type(item) is not str:
            return (index,), "Must be a string."
    return None


AMOUNT = TypedProperty("amount", NUMBER, "the order's or goal's value in yen", 0, MAX_AMOUNT)
QUANTITY = TypedProperty("quantity", INTEGER, "how many (default 1)", 1, MAX_QUANTITY)
PRICE = TypedProperty("price", NUMBER, "unit price in yen", 0, MAX_AMOUNT)
SKU = TypedProperty("sku", STRING, "the product's stock-keeping unit")
PRODUCT = TypedProperty("product", STRING, "the product, when there is no SKU")
CATEGORY = TypedProperty("category", STRING, "the product's category")
CATEGORIES = TypedProperty("categories", STRING_LIST, "categories of what was bought")
SKUS = TypedProperty("skus", STRING_LIST, "SKUs of the products bought")
ARM = TypedProperty("arm", STRING, "`explore` or `exploit`: why the recommendation was shown")
BLOCK = TypedProperty("block", STRING, "the recommendations block's id")

# `amount` is every event's value for experiment goals; the rest as the rollups read them.
ANY_EVENT = (AMOUNT,)
EVENT_PROPERTIES: dict[str, tuple[TypedProperty, ...]] = {
    "add_to_cart": (SKU, PRODUCT, QUANTITY, PRICE, CATEGORY),
    "remove_from_cart": (SKU, PRODUCT, QUANTITY),
    "purchase": (CATEGORY, CATEGORIES, SKUS),
    "product_view": (SKU, CATEGORY),
    "favourite_added": (SKU,),
    "favourite_removed": (SKU,),
    "recommendation_impression": (SKU, ARM, BLOCK),
    "recommendation_click": (SKU, ARM, BLOCK),
}


def typed_properties(event_type: str) -> tuple[TypedProperty, ...]:
    """The typed properties an event of this type may carry."""
    return ANY_EVENT + EVENT_PROPERTIES.get(event_type, ())


def typed_property_problems(event_type: str, properties: dict) -> Iterator[PropertiesRefused]:
    """Each typed property of `properties` that does not fit its type or bounds."""
    for spec in typed_properties(event_type):
        if spec.name not in properties:
            continue
        found = spec.problem(properties[spec.name])
        if found is not None:
            inner, message = found
            yield PropertiesRefused((spec.name, *inner), message)


def properties_check(event_type: str, properties: dict) -> int:
    """The size bound of `properties` (see `json_bytes_at_most`); raises `PropertiesRefused`
    for the first thing in them that cannot be accepted for this event type."""
    bound = json_bytes_at_most(properties)
    for problem in typed_property_problems(event_type, properties):
        raise problem
    return bound
