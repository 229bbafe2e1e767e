"""A condition's structure: shape and size checks with located messages, and the walk order.

`split_condition` and `operators_in_order` fix the order in which both the compiler and the
interpreter visit a condition's entries, so a failing test short-circuits at the same place in
both. The checks of each operator's argument run where the compiler builds that operator, so
`validate_condition` (in `compiler`) is a compilation without saved groups: what validates is
exactly what compiles.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

from personalization.conditions.language import (
    ARRAY_TYPES,
    LOGICAL_OPERATORS,
    MAX_DEPTH,
    MAX_NODES,
    MAX_REGEX_LENGTH,
    PRIMITIVE_TYPES,
    VALUE_OPERATORS,
    ConditionError,
)
from personalization.conditions.values import is_number, type_name

# ---------------------------------------------------------------------------------------------
# Walk order: how both evaluators read a condition


def is_operator_object(value: Any) -> bool:
    """A non-empty dict whose keys all start with '$' holds operators, not a literal."""
    return (
        isinstance(value, dict)
        and len(value) > 0
        and all(isinstance(key, str) and key.startswith("$") for key in value)
    )


def elem_match_on_values(condition: Any) -> bool:
    """$elemMatch tests elements themselves with operators, else their fields as a condition."""
    return is_operator_object(condition) and not (condition.keys() & {"$and", "$or", "$nor"})


_BOUND_RANK = {"$gt": 0, "$gte": 1, "$lt": 2, "$lte": 3}


def split_condition(
    condition: Any, where: str
) -> tuple[list[tuple[str, Any, str]], list[tuple[str, Any, str]]]:
    """A condition's attribute tests and its $or/$nor/$not entries, each as (key, value, where).

    $and is flattened into its parent. Both evaluators run attribute tests first, then the
    rest, in this order, so a failing test short-circuits (and an odd attribute raises) at
    the same place in both.
    """
    fields: list[tuple[str, Any, str]] = []
    logicals: list[tuple[str, Any, str]] = []
    pending = [(condition, where)]
    while pending:
        current, at = pending.pop(0)
        if not isinstance(current, dict):
            raise fail(at, f"Expected a condition object (dict), not {describe(current)}.")
        flattened = []
        for key, value in current.items():
            if not isinstance(key, str):
                raise fail(at, f"Attribute names must be strings, not {describe(key)}.")
            here = f"{at}.{key}" if at else key
            if key == "$and":
                items = check_conditions(key, value, here)
                flattened.extend((item, f"{here}[{i}]") for i, item in enumerate(items))
            elif key in LOGICAL_OPERATORS:
                logicals.append((key, value, here))
            elif key in VALUE_OPERATORS:
                raise fail(
                    here,
                    f"{key} is a value operator; apply it to an attribute, "
                    f'e.g. {{"age": {{"{key}": ...}}}}.',
                )
            else:
                fields.append((key, value, here))
        pending[:0] = flattened
    return fields, logicals


def check_conditions(op: str, value: Any, where: str) -> list[Any]:
    """The argument of $and/$or/$nor, which must be a list (of conditions)."""
    if not isinstance(value, ARRAY_TYPES):
        raise fail(where, f"{op} expects a list of conditions, not {describe(value)}.")
    return list(value)


def operators_in_order(expected: dict[str, Any]) -> list[tuple[str, Any]]:
    """An operator object's entries in evaluation order: bounds (lower, upper), then the rest."""
    entries = list(expected.items())
    bounds = sorted((e for e in entries if e[0] in _BOUND_RANK), key=lambda e: _BOUND_RANK[e[0]])
    return bounds + [e for e in entries if e[0] not in _BOUND_RANK]


# ---------------------------------------------------------------------------------------------
# Checks, raising ConditionError with where the problem is


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 3, 40, 40


def describe(value: Any) -> str:
    """A short description of a value for error messages (never a huge repr)."""
    return f"{_SHORT_REPR.repr(value)} ({type(value).__name__})"


def fail(where: str, message: str) -> ConditionError:
    """A ConditionError whose message says where in the condition the problem is."""
    return ConditionError(f"{message} (at {where})" if where else message)


def check_size(condition: Any) -> None:
    """Reject conditions nested deeper than MAX_DEPTH or with more than MAX_NODES nodes."""
    stack: list[tuple[Any, int]] = [(condition, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ConditionError(
                f"The condition is too large: more than {MAX_NODES} values in total."
            )
        if isinstance(value, dict | list | tuple):
            if depth > MAX_DEPTH:
                raise ConditionError(
                    f"The condition is nested too deeply: more than {MAX_DEPTH} levels."
                )
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def check_literal(value: Any, where: str) -> None:
    """Reject values that JSON cannot express (sets, dates, objects...)."""
    kind = type_name(value)
    if kind == "unknown":
        raise fail(where, f"Unsupported value {describe(value)}: use JSON values only.")
    if kind == "array":
        for item in value:
            check_literal(item, where)
    elif kind == "object":
        for key, item in value.items():
            if not isinstance(key, str):
                raise fail(where, f"Object keys must be strings, not {describe(key)}.")
            check_literal(item, where)


def check_list(op: str, arg: Any, where: str) -> list[Any]:
    """The argument of a list operator, which must be a list."""
    if not isinstance(arg, ARRAY_TYPES):
        raise fail(where, f"{op} expects a list, not {describe(arg)}.")
    return list(arg)


def check_primitives(op: str, items: list[Any], where: str) -> None:
    """Items of a membership list must be strings, numbers, booleans or null."""
    for item in items:
        if type_name(item) not in PRIMITIVE_TYPES:
            raise fail(
                where,
                f"{op} items must be strings, numbers, booleans or null, not {describe(item)}.",
            )


def compile_regex(op: str, pattern: Any, flags: int, where: str) -> re.Pattern[str]:
    """Compile a regex argument, rejecting non-strings, over-long and invalid patterns."""
    if not isinstance(pattern, str):
        raise fail(where, f"{op} expects a regular expression string, not {describe(pattern)}.")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise fail(
            where,
            f"{op} pattern is {len(pattern)} characters long; the limit is {MAX_REGEX_LENGTH}.",
        )
    try:
        return re.compile(pattern, flags)
    except (re.error, RecursionError, OverflowError, ValueError) as error:
        raise fail(where, f"{op} has an invalid regular expression {pattern!r}: {error}.") from None


def check_order_arg(op: str, arg: Any, where: str) -> None:
    """$lt/$lte/$gt/$gte take a number or a string."""
    if not (is_number(arg) or isinstance(arg, str)):
        raise fail(where, f"{op} expects a number or a string, not {describe(arg)}.")
