"""What JSON values mean to the language: types, strict equality, membership, paths, versions.

Shared by the compiler and the interpreter, so that both read attributes the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from personalization.conditions.language import ARRAY_TYPES, PRIMITIVE_TYPES, SavedGroups


def type_name(value: Any) -> str:
    """The JSON type of a value, as $type names it ("unknown" for non-JSON objects)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, ARRAY_TYPES):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def is_number(value: Any) -> bool:
    """A JSON number: an int or float, but not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def orderable(actual: Any, expected: Any) -> bool:
    """Only two numbers or two strings can be ordered (no coercion, no None)."""
    if isinstance(expected, str):
        return isinstance(actual, str)
    return is_number(expected) and is_number(actual)


def equals(expected: Any, actual: Any) -> bool:
    """Strict deep equality of JSON values (1 == 1.0, but 1 != True and 1 != "1")."""
    kind = type_name(expected)
    if kind != type_name(actual) or kind == "unknown":
        return False
    if kind == "array":
        return len(expected) == len(actual) and all(
            equals(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if kind == "object":
        return expected.keys() == actual.keys() and all(
            equals(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


def literal_equals(expected: Any, actual: Any, fold: bool) -> bool:
    """Literal equality, ignoring case between two strings when `fold` is set."""
    if fold and isinstance(expected, str) and isinstance(actual, str):
        return expected.lower() == actual.lower()
    return equals(expected, actual)


def _fold(value: Any) -> Any:
    """Lower-case a string; leave anything else alone."""
    return value.lower() if isinstance(value, str) else value


def is_member(value: Any, items: list[Any], fold: bool) -> bool:
    """Whether a scalar equals (strictly) one of the primitive items."""
    kind = type_name(value)
    if kind not in PRIMITIVE_TYPES:
        return False
    if fold:
        value = _fold(value)
    for item in items:
        if type_name(item) == kind and (_fold(item) if fold else item) == value:
            return True
    return False


def is_in(value: Any, items: list[Any], fold: bool) -> bool:
    """$in: a scalar is one of the items, or an array shares an element with them."""
    if isinstance(value, ARRAY_TYPES):
        return any(is_member(element, items, fold) for element in value)
    return is_member(value, items, fold)


def group_items(saved_groups: SavedGroups, group_id: str) -> list[Any] | None:
    """A saved group's values: [] for an unknown group, None for a malformed one."""
    if not isinstance(saved_groups, Mapping):
        return None
    items = saved_groups.get(group_id, [])
    return list(items) if isinstance(items, list | tuple | set | frozenset) else None


def get_path(attributes: Any, parts: tuple[str, ...] | list[str]) -> Any:
    """Read a dotted path through dicts and lists ("length" or an index); None if missing."""
    current = attributes
    for part in parts:
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, ARRAY_TYPES):
            if part == "length":
                current = len(current)
            elif _is_index(part, len(current)):
                current = current[int(part)]
            else:
                return None
        else:
            return None
    return current


def _is_index(part: str, length: int) -> bool:
    """Whether a path segment is a canonical list index ("0", "12"; not "01", "-1")."""
    return (
        0 < len(part) <= 10
        and part.isascii()
        and part.isdigit()
        and (part == "0" or part[0] != "0")
        and int(part) < length
    )


_VERSION_STRIP = re.compile(r"^v|\+.*$", re.DOTALL)
_VERSION_SPLIT = re.compile(r"[-.]")


def _version_text(value: Any) -> str:
    """A version operand as text: numbers the way JavaScript prints them, '' as '0'."""
    if is_number(value):
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
            value = str(int(value))
        else:
            value = repr(value)
    return value or "0"


@lru_cache(maxsize=2048)
def version_key(text: str) -> str:
    """A string that orders like the version: numeric parts padded, releases after pre-releases."""
    parts = _VERSION_SPLIT.split(_VERSION_STRIP.sub("", text))
    if len(parts) == 3:
        parts.append("~")  # "~" sorts after letters: 1.0.0 > 1.0.0-beta
    return "-".join(p.rjust(5) if p.isascii() and p.isdigit() else p for p in parts)


def padded_version(value: Any) -> str:
    """The comparable key of a version string or number."""
    return version_key(_version_text(value))
