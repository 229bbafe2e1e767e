"""The closures a compiled condition is made of: combinators and specialised value tests.

Nothing here recurses into a condition; `compiler` walks the condition and builds these. Hot
shapes (one to four attribute tests, short dotted paths, numeric bounds and "between", set-based
membership) get closures of their own, so keep this module free of per-call overhead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from personalization.conditions.language import ARRAY_TYPES, ORDER, Predicate
from personalization.conditions.values import (
    equals,
    get_path,
    is_member,
    is_number,
    literal_equals,
    type_name,
)

_FAST_NUMBER_TYPES = frozenset({int, float})


def never(attributes: Any) -> bool:
    """The compiled form of a malformed condition: it never matches."""
    return False


def always(value: Any) -> bool:
    """A test that always passes (an empty condition, $and or $or)."""
    return True


def condition_test(
    keys: tuple[tuple[str, Predicate], ...], others: tuple[Predicate, ...]
) -> Predicate:
    """A nested condition's test; `keys` pairs attribute names with tests of their values,
    `others` ($or, $nor, $not) test the whole attributes."""
    if not keys and not others:
        return always

    def test(attributes: Any) -> bool:
        if type(attributes) is dict:
            for key, match in keys:
                if not match(attributes.get(key)):
                    return False
        elif not _keys_pass(attributes, keys):
            return False
        for other in others:  # noqa: SIM110 - a loop is faster than all() on a generator
            if not other(attributes):
                return False
        return True

    return test


def root_test(
    keys: tuple[tuple[str, Predicate], ...], others: tuple[Predicate, ...]
) -> Callable[[dict[str, Any]], bool]:
    """The outermost condition's test: it returns False instead of raising.

    The usual segment, one to four attribute tests, gets a closure with the tests unrolled.
    """
    if not keys and not others:
        return always
    if others or len(keys) > 4:
        inner = condition_test(keys, others)

        def test(attributes: Any) -> bool:
            try:
                return inner(attributes)
            except Exception:  # evaluation never raises; see the package docstring
                return False

        return test
    return _few_keys_test(keys)


def _few_keys_test(keys: tuple[tuple[str, Predicate], ...]) -> Callable[[dict[str, Any]], bool]:
    """root_test unrolled for one to four attribute tests (bool() of a chain of `and`s)."""
    (k1, m1), (k2, m2), (k3, m3), (k4, m4) = keys + (("", always),) * (4 - len(keys))

    def test1(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                return bool(m1(attributes.get(k1)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the package docstring
            return False

    def test2(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                get = attributes.get
                return bool(m1(get(k1)) and m2(get(k2)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the package docstring
            return False

    def test3(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                get = attributes.get
                return bool(m1(get(k1)) and m2(get(k2)) and m3(get(k3)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the package docstring
            return False

    def test4(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                get = attributes.get
                return bool(m1(get(k1)) and m2(get(k2)) and m3(get(k3)) and m4(get(k4)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the package docstring
            return False

    return (test1, test2, test3, test4)[len(keys) - 1]


def _keys_pass(attributes: Any, keys: tuple[tuple[str, Predicate], ...]) -> bool:
    """The slow path of condition_test, for attributes that are not a plain dict."""
    return all(match(get_path(attributes, (key,))) for key, match in keys)


def path_test(rest: tuple[str, ...], match: Predicate) -> Predicate:
    """Test the value at the rest of a dotted path (after its first part)."""
    if len(rest) == 1:
        (part,) = rest

        def test1(value: Any) -> bool:
            if type(value) is dict:
                return match(value.get(part))
            return match(get_path(value, rest))

        return test1
    if len(rest) == 2:
        first, second = rest

        def test2(value: Any) -> bool:
            if type(value) is dict:
                value = value.get(first)
                if type(value) is dict:
                    return match(value.get(second))
                return match(get_path(value, rest[1:]))
            return match(get_path(value, rest))

        return test2

    def test(value: Any) -> bool:
        for part in rest:
            if type(value) is dict:
                value = value.get(part)
            elif value is None:
                break
            else:
                value = get_path(value, (part,))
        return match(value)

    return test


def all_of(tests: list[Predicate]) -> Predicate:
    """A test passing when every test passes (short-circuiting)."""
    if not tests:
        return always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda value: first(value) and second(value)
    frozen = tuple(tests)

    def every(value: Any) -> bool:
        for test in frozen:  # noqa: SIM110 - a loop is faster than all() on a generator
            if not test(value):
                return False
        return True

    return every


def any_of(tests: list[Predicate]) -> Predicate:
    """A test passing when some test passes; an empty list passes, as in GrowthBook."""
    if not tests:
        return always
    if len(tests) == 1:
        return tests[0]
    frozen = tuple(tests)

    def some(value: Any) -> bool:
        for test in frozen:  # noqa: SIM110 - a loop is faster than any() on a generator
            if test(value):
                return True
        return False

    return some


def literal_test(expected: Any, fold: bool) -> Predicate:
    """Strict equality with a literal, specialised by the literal's type."""
    if expected is None:
        return lambda value: value is None
    if isinstance(expected, bool):
        return lambda value: value is expected
    if isinstance(expected, str):
        if fold:
            lowered = expected.lower()
            return lambda value: (
                value.lower() == lowered
                if type(value) is str
                else literal_equals(expected, value, True)
            )
        return lambda value: value == expected if type(value) is str else equals(expected, value)
    if is_number(expected):
        return lambda value: (
            value == expected if type(value) in _FAST_NUMBER_TYPES else equals(expected, value)
        )
    return lambda value: equals(expected, value)


def order_test(checks: list[tuple[str, Any]]) -> Predicate:
    """All $lt/$lte/$gt/$gte of one operator object; "between" on numbers is one closure."""
    if len(checks) == 1:
        ((op, bound),) = checks
        if is_number(bound):
            return _number_bound(op, bound)
        cmp = ORDER[op]
        return lambda value: isinstance(value, str) and cmp(value, bound)
    by_op = dict(checks)
    low_op = "$gt" if "$gt" in by_op else "$gte"
    high_op = "$lt" if "$lt" in by_op else "$lte"
    if len(checks) == 2 and {low_op, high_op} == by_op.keys():
        low, high = by_op[low_op], by_op[high_op]
        if is_number(low) and is_number(high):
            return _number_range(low_op == "$gte", low, high_op == "$lte", high)
    return all_of([order_test([check]) for check in checks])


def _number_bound(op: str, bound: float) -> Predicate:
    """A single numeric bound, compared inline."""
    fast = _FAST_NUMBER_TYPES
    if op == "$lt":
        return lambda value: (type(value) in fast or is_number(value)) and value < bound
    if op == "$lte":
        return lambda value: (type(value) in fast or is_number(value)) and value <= bound
    if op == "$gt":
        return lambda value: (type(value) in fast or is_number(value)) and value > bound
    return lambda value: (type(value) in fast or is_number(value)) and value >= bound


def _number_range(low_inclusive: bool, low: float, high_inclusive: bool, high: float) -> Predicate:
    """A numeric "between", compared inline (lower bound first, as the interpreter does)."""
    fast = _FAST_NUMBER_TYPES
    if low_inclusive and high_inclusive:
        return lambda value: (
            (type(value) in fast or is_number(value)) and value >= low and value <= high
        )
    if low_inclusive:
        return lambda value: (
            (type(value) in fast or is_number(value)) and value >= low and value < high
        )
    if high_inclusive:
        return lambda value: (
            (type(value) in fast or is_number(value)) and value > low and value <= high
        )
    return lambda value: (type(value) in fast or is_number(value)) and value > low and value < high


def membership_test(items: list[Any], fold: bool) -> Predicate:
    """Set-based $in: bools kept apart from numbers so that True never matches 1."""
    plain: set[Any] = set()
    bools: set[bool] = set()
    for item in items:
        kind = type_name(item)
        if kind == "boolean":
            bools.add(item)
        elif kind == "string":
            plain.add(item.lower() if fold else item)
        elif kind == "null" or (kind == "number" and not math.isnan(item)):
            plain.add(item)  # NaN equals nothing, so it is left out
    members, bool_members = frozenset(plain), frozenset(bools)

    def other(value: Any) -> bool:
        if type(value) is bool:
            return value in bool_members
        if isinstance(value, ARRAY_TYPES):
            return any(test(element) for element in value if not isinstance(element, ARRAY_TYPES))
        return is_member(value, items, fold)

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return (value.lower() if fold else value) in members
        if kind is int or kind is float or value is None:
            return value in members
        return other(value)

    return test
