"""The interpreter: `evaluate` walks the condition dict on every call.

Slower than a compiled condition and kept plain, as a second implementation of the same rules:
tests/personalization/test_conditions_property.py checks that it always agrees with
`compile_condition`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from personalization.conditions.compiler import validate_condition
from personalization.conditions.language import (
    ARRAY_TYPES,
    MEMBERSHIP_OPERATORS,
    ORDER,
    REGEX_OPERATORS,
    VERSION_ORDER,
    Condition,
    ConditionError,
    SavedGroups,
)
from personalization.conditions.validation import (
    elem_match_on_values,
    is_operator_object,
    operators_in_order,
    split_condition,
)
from personalization.conditions.values import (
    equals,
    get_path,
    group_items,
    is_in,
    literal_equals,
    orderable,
    padded_version,
    type_name,
)


def evaluate(
    condition: Any, attributes: dict[str, Any], saved_groups: SavedGroups | None = None
) -> bool:
    """Interpret `condition` against `attributes`; same result as compile_condition, slower."""
    try:
        validate_condition(condition)
    except ConditionError:
        return False
    try:
        return _eval_condition(condition, attributes, saved_groups or {})
    except Exception:  # evaluation never raises; see the package docstring
        return False


def _eval_condition(condition: Condition, attributes: Any, groups: SavedGroups) -> bool:
    """Interpret a validated condition against attributes (may raise on odd objects)."""
    fields, logicals = split_condition(condition, "")
    for path, expected, _ in fields:
        if not _eval_value(expected, get_path(attributes, path.split(".")), groups, False):
            return False
    for op, value, _ in logicals:
        if op == "$not":
            passed = not _eval_condition(value, attributes, groups)
        else:
            either = not value or any(_eval_condition(c, attributes, groups) for c in value)
            passed = either if op == "$or" else not either
        if not passed:
            return False
    return True


def _eval_value(expected: Any, actual: Any, groups: SavedGroups, fold: bool) -> bool:
    """Interpret an operator object or a literal against one attribute value."""
    if not is_operator_object(expected):
        return literal_equals(expected, actual, fold)
    return all(_eval_operator(op, arg, actual, groups) for op, arg in operators_in_order(expected))


def _eval_operator(op: str, arg: Any, actual: Any, groups: SavedGroups) -> bool:
    """Interpret one operator."""
    if op in ORDER:
        return orderable(actual, arg) and ORDER[op](actual, arg)
    if op in VERSION_ORDER:
        if not orderable(actual, arg):
            return op == "$vne"
        return VERSION_ORDER[op](padded_version(actual), padded_version(arg))
    if op in REGEX_OPERATORS:
        flags, negate = REGEX_OPERATORS[op]
        found = isinstance(actual, str) and re.compile(arg, flags).search(actual) is not None
        return found != negate
    if op in MEMBERSHIP_OPERATORS:
        fold, negate = MEMBERSHIP_OPERATORS[op]
        return is_in(actual, arg, fold) != negate
    return _EVAL_OTHER[op](arg, actual, groups)


def _eval_group(arg: str, actual: Any, groups: SavedGroups, negate: bool) -> bool:
    """Interpret $inGroup/$notInGroup (a malformed group matches neither)."""
    items = group_items(groups, arg)
    return items is not None and is_in(actual, items, False) != negate


def _eval_all(arg: list[Any], actual: Any, groups: SavedGroups, fold: bool) -> bool:
    """Interpret $all/$alli."""
    return isinstance(actual, ARRAY_TYPES) and all(
        any(_eval_value(item, element, groups, fold) for element in actual) for item in arg
    )


def _eval_elem_match(arg: Condition, actual: Any, groups: SavedGroups) -> bool:
    """Interpret $elemMatch."""
    if not isinstance(actual, ARRAY_TYPES):
        return False
    on_values = elem_match_on_values(arg)
    for element in actual:
        if element is None:
            continue
        if on_values:
            if _eval_value(arg, element, groups, fold=False):
                return True
        elif _eval_condition(arg, element, groups):
            return True
    return False


_EVAL_OTHER: dict[str, Callable[[Any, Any, SavedGroups], bool]] = {
    "$eq": lambda arg, actual, groups: equals(arg, actual),
    "$ne": lambda arg, actual, groups: not equals(arg, actual),
    "$all": lambda arg, actual, groups: _eval_all(arg, actual, groups, False),
    "$alli": lambda arg, actual, groups: _eval_all(arg, actual, groups, True),
    "$elemMatch": _eval_elem_match,
    "$size": lambda arg, actual, groups: (
        isinstance(actual, ARRAY_TYPES) and _eval_value(arg, len(actual), groups, False)
    ),
    "$exists": lambda arg, actual, groups: (actual is not None) is arg,
    "$type": lambda arg, actual, groups: type_name(actual) == arg,
    "$not": lambda arg, actual, groups: not _eval_value(arg, actual, groups, False),
    "$inGroup": lambda arg, actual, groups: _eval_group(arg, actual, groups, False),
    "$notInGroup": lambda arg, actual, groups: _eval_group(arg, actual, groups, True),
}
