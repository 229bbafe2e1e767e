"""GrowthBook-style targeting conditions, evaluated against a dict of visitor attributes.

The language is the MongoDB-like one used by GrowthBook's SDKs. A *condition* is a dict:

- ``{"$and": [cond, ...]}``, ``{"$or": [...]}``, ``{"$nor": [...]}``, ``{"$not": cond}``;
  an empty ``$and``/``$or`` passes, an empty ``$nor`` fails.
- Any other key is an attribute path; dots walk nested dicts (``"behaviour.views.dogs"``) and
  lists (``"tags.0"``, ``"tags.length"``). A missing attribute reads as ``None``.
- Every entry of a condition must pass (an empty condition passes).

An attribute path maps to a literal (strict deep equality: ``1`` never equals ``True`` or
``"1"``) or to an operator object, whose operators must all pass:

- ``$eq $ne`` (primitives), ``$lt $lte $gt $gte`` (two numbers or two strings),
- ``$veq $vne $vlt $vlte $vgt $vgte`` (SemVer-ish versions, e.g. ``"1.2.3-beta.1"``),
- ``$regex $regexi $notRegex $notRegexi`` (Python ``re`` syntax, searched, not anchored),
- ``$in $nin $ini $nini`` (membership; an array attribute matches if any element is in the
  list; the ``i`` forms ignore case), ``$all $alli`` (array contains a match for every item),
- ``$elemMatch`` (some element matches an operator object or, for dict elements, a condition),
  ``$size`` (array length equals a number or matches an operator object),
- ``$exists`` (bool), ``$type`` (``string number boolean array object null``), ``$not``,
- ``$inGroup $notInGroup`` (membership in a saved group: a named list of values).

Departures from GrowthBook's JavaScript reference, all in the "strict" direction:

- Ordering operators never coerce: a missing attribute never satisfies ``$gt``/``$lt``/...,
  and a string is never compared with a number (so "age between 20 and 29" does not match a
  visitor whose age is unknown). Regexes only match strings.
- Object literals compare by keys and values, not by key order (JSON stored in PostgreSQL
  does not keep key order). Strings order by code point (JavaScript uses UTF-16 units).
- A malformed condition (anything :func:`validate_condition` rejects: unknown operator,
  wrong argument type, invalid or over-long regex, nesting or size over the limits) never
  matches: :func:`compile_condition` returns a function that always returns ``False``.

Run-time errors: a compiled condition never raises. If evaluation hits something
unexpected (say an attribute object whose ``__eq__`` raises), the whole condition returns
``False``, so a ``$not`` can never turn an error into a match. Callers that want to log such
cases should validate conditions when they are saved. Regexes run without a timeout, so
:func:`validate_condition` caps their length; review patterns for nested quantifiers.

:func:`compile_condition` builds nested closures once (regexes compiled, ``$in`` lists turned
into sets, saved groups looked up, so recompile when they change) and is the one to use on hot
paths; :func:`evaluate` is a plain interpreter over the condition dict that always agrees with
it (both evaluate a condition's entries in the same order, see ``_split_condition``).
"""

from __future__ import annotations

import math
import operator
import re
import reprlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_REGEX_LENGTH",
    "ConditionError",
    "compile_condition",
    "evaluate",
    "validate_condition",
]

MAX_DEPTH = 32  # nested dicts/lists in one condition, counting the condition itself
MAX_NODES = 5000  # dicts, lists and scalars in one condition, all counted
MAX_REGEX_LENGTH = 500

Condition = dict[str, Any]
Predicate = Callable[[Any], bool]
SavedGroups = Mapping[str, Any]

LOGICAL_OPERATORS = frozenset({"$and", "$or", "$nor", "$not"})
TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null"})
_PRIMITIVE_TYPES = frozenset({"null", "boolean", "number", "string"})
_ARRAY_TYPES = (list, tuple)
_FAST_NUMBER_TYPES = frozenset({int, float})
_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_VERSION_ORDER = {
    "$veq": operator.eq,
    "$vne": operator.ne,
    "$vlt": operator.lt,
    "$vlte": operator.le,
    "$vgt": operator.gt,
    "$vgte": operator.ge,
}
_REGEX_OPERATORS = {
    "$regex": (0, False),
    "$regexi": (re.IGNORECASE, False),
    "$notRegex": (0, True),
    "$notRegexi": (re.IGNORECASE, True),
}
_MEMBERSHIP_OPERATORS = {
    "$in": (False, False),
    "$nin": (False, True),
    "$ini": (True, False),
    "$nini": (True, True),
}


class ConditionError(ValueError):
    """A condition that is malformed, unsupported or too large to evaluate safely."""


# ---------------------------------------------------------------------------------------------
# Public API


def validate_condition(condition: Any) -> None:
    """Raise ConditionError, with a human message, unless `condition` is well formed."""
    _compile_root(condition, None)


def compile_condition(
    condition: Any, saved_groups: SavedGroups | None = None
) -> Callable[[dict[str, Any]], bool]:
    """Compile once into a fast, never-raising predicate over an attributes dict."""
    try:
        return _compile_root(condition, saved_groups)
    except ConditionError:
        return _never


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
    except Exception:  # evaluation never raises; see the module docstring
        return False


def _compile_root(condition: Any, saved_groups: SavedGroups | None) -> Predicate:
    """Check the size limits, then compile the condition (raising ConditionError)."""
    if not isinstance(condition, dict):
        raise ConditionError(
            f"A condition must be a JSON object (dict), not {_describe(condition)}."
        )
    _check_size(condition)
    return _root_test(*_compile_entries(condition, "", saved_groups or {}))


def _never(attributes: Any) -> bool:
    """The compiled form of a malformed condition: it never matches."""
    return False


def _always(value: Any) -> bool:
    """A test that always passes (an empty condition, $and or $or)."""
    return True


# ---------------------------------------------------------------------------------------------
# Shared semantics (used by both the compiler and the interpreter)


def _type_name(value: Any) -> str:
    """The JSON type of a value, as $type names it ("unknown" for non-JSON objects)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _ARRAY_TYPES):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def _is_number(value: Any) -> bool:
    """A JSON number: an int or float, but not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _orderable(actual: Any, expected: Any) -> bool:
    """Only two numbers or two strings can be ordered (no coercion, no None)."""
    if isinstance(expected, str):
        return isinstance(actual, str)
    return _is_number(expected) and _is_number(actual)


def _equals(expected: Any, actual: Any) -> bool:
    """Strict deep equality of JSON values (1 == 1.0, but 1 != True and 1 != "1")."""
    kind = _type_name(expected)
    if kind != _type_name(actual) or kind == "unknown":
        return False
    if kind == "array":
        return len(expected) == len(actual) and all(
            _equals(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if kind == "object":
        return expected.keys() == actual.keys() and all(
            _equals(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


def _literal_equals(expected: Any, actual: Any, fold: bool) -> bool:
    """Literal equality, ignoring case between two strings when `fold` is set."""
    if fold and isinstance(expected, str) and isinstance(actual, str):
        return expected.lower() == actual.lower()
    return _equals(expected, actual)


def _fold(value: Any) -> Any:
    """Lower-case a string; leave anything else alone."""
    return value.lower() if isinstance(value, str) else value


def _is_member(value: Any, items: list[Any], fold: bool) -> bool:
    """Whether a scalar equals (strictly) one of the primitive items."""
    kind = _type_name(value)
    if kind not in _PRIMITIVE_TYPES:
        return False
    if fold:
        value = _fold(value)
    for item in items:
        if _type_name(item) == kind and (_fold(item) if fold else item) == value:
            return True
    return False


def _is_in(value: Any, items: list[Any], fold: bool) -> bool:
    """$in: a scalar is one of the items, or an array shares an element with them."""
    if isinstance(value, _ARRAY_TYPES):
        return any(_is_member(element, items, fold) for element in value)
    return _is_member(value, items, fold)


def _group_items(saved_groups: SavedGroups, group_id: str) -> list[Any] | None:
    """A saved group's values: [] for an unknown group, None for a malformed one."""
    if not isinstance(saved_groups, Mapping):
        return None
    items = saved_groups.get(group_id, [])
    return list(items) if isinstance(items, list | tuple | set | frozenset) else None


def _get_path(attributes: Any, parts: tuple[str, ...] | list[str]) -> Any:
    """Read a dotted path through dicts and lists ("length" or an index); None if missing."""
    current = attributes
    for part in parts:
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, _ARRAY_TYPES):
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
    if _is_number(value):
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
            value = str(int(value))
        else:
            value = repr(value)
    return value or "0"


@lru_cache(maxsize=2048)
def _version_key(text: str) -> str:
    """A string that orders like the version: numeric parts padded, releases after pre-releases."""
    parts = _VERSION_SPLIT.split(_VERSION_STRIP.sub("", text))
    if len(parts) == 3:
        parts.append("~")  # "~" sorts after letters: 1.0.0 > 1.0.0-beta
    return "-".join(p.rjust(5) if p.isascii() and p.isdigit() else p for p in parts)


def _padded_version(value: Any) -> str:
    """The comparable key of a version string or number."""
    return _version_key(_version_text(value))


def _is_operator_object(value: Any) -> bool:
    """A non-empty dict whose keys all start with '$' holds operators, not a literal."""
    return (
        isinstance(value, dict)
        and len(value) > 0
        and all(isinstance(key, str) and key.startswith("$") for key in value)
    )


def _elem_match_on_values(condition: Any) -> bool:
    """$elemMatch tests elements themselves with operators, else their fields as a condition."""
    return _is_operator_object(condition) and not (condition.keys() & {"$and", "$or", "$nor"})


_BOUND_RANK = {"$gt": 0, "$gte": 1, "$lt": 2, "$lte": 3}


def _split_condition(
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
            raise _fail(at, f"Expected a condition object (dict), not {_describe(current)}.")
        flattened = []
        for key, value in current.items():
            if not isinstance(key, str):
                raise _fail(at, f"Attribute names must be strings, not {_describe(key)}.")
            here = f"{at}.{key}" if at else key
            if key == "$and":
                items = _check_conditions(key, value, here)
                flattened.extend((item, f"{here}[{i}]") for i, item in enumerate(items))
            elif key in LOGICAL_OPERATORS:
                logicals.append((key, value, here))
            elif key in VALUE_OPERATORS:
                raise _fail(
                    here,
                    f"{key} is a value operator; apply it to an attribute, "
                    f'e.g. {{"age": {{"{key}": ...}}}}.',
                )
            else:
                fields.append((key, value, here))
        pending[:0] = flattened
    return fields, logicals


def _check_conditions(op: str, value: Any, where: str) -> list[Any]:
    """The argument of $and/$or/$nor, which must be a list (of conditions)."""
    if not isinstance(value, _ARRAY_TYPES):
        raise _fail(where, f"{op} expects a list of conditions, not {_describe(value)}.")
    return list(value)


def _operators_in_order(expected: dict[str, Any]) -> list[tuple[str, Any]]:
    """An operator object's entries in evaluation order: bounds (lower, upper), then the rest."""
    entries = list(expected.items())
    bounds = sorted((e for e in entries if e[0] in _BOUND_RANK), key=lambda e: _BOUND_RANK[e[0]])
    return bounds + [e for e in entries if e[0] not in _BOUND_RANK]


# ---------------------------------------------------------------------------------------------
# Validation helpers


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 3, 40, 40


def _describe(value: Any) -> str:
    """A short description of a value for error messages (never a huge repr)."""
    return f"{_SHORT_REPR.repr(value)} ({type(value).__name__})"


def _fail(where: str, message: str) -> ConditionError:
    """A ConditionError whose message says where in the condition the problem is."""
    return ConditionError(f"{message} (at {where})" if where else message)


def _check_size(condition: Any) -> None:
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


def _check_literal(value: Any, where: str) -> None:
    """Reject values that JSON cannot express (sets, dates, objects...)."""
    kind = _type_name(value)
    if kind == "unknown":
        raise _fail(where, f"Unsupported value {_describe(value)}: use JSON values only.")
    if kind == "array":
        for item in value:
            _check_literal(item, where)
    elif kind == "object":
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(where, f"Object keys must be strings, not {_describe(key)}.")
            _check_literal(item, where)


def _check_list(op: str, arg: Any, where: str) -> list[Any]:
    """The argument of a list operator, which must be a list."""
    if not isinstance(arg, _ARRAY_TYPES):
        raise _fail(where, f"{op} expects a list, not {_describe(arg)}.")
    return list(arg)


def _check_primitives(op: str, items: list[Any], where: str) -> None:
    """Items of a membership list must be strings, numbers, booleans or null."""
    for item in items:
        if _type_name(item) not in _PRIMITIVE_TYPES:
            raise _fail(
                where,
                f"{op} items must be strings, numbers, booleans or null, not {_describe(item)}.",
            )


def _compile_regex(op: str, pattern: Any, flags: int, where: str) -> re.Pattern[str]:
    """Compile a regex argument, rejecting non-strings, over-long and invalid patterns."""
    if not isinstance(pattern, str):
        raise _fail(where, f"{op} expects a regular expression string, not {_describe(pattern)}.")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise _fail(
            where,
            f"{op} pattern is {len(pattern)} characters long; the limit is {MAX_REGEX_LENGTH}.",
        )
    try:
        return re.compile(pattern, flags)
    except (re.error, RecursionError, OverflowError, ValueError) as error:
        raise _fail(
            where, f"{op} has an invalid regular expression {pattern!r}: {error}."
        ) from None


# ---------------------------------------------------------------------------------------------
# Compiler: condition dict -> nested closures


def _compile_condition(condition: Any, where: str, groups: SavedGroups) -> Predicate:
    """Compile a nested condition (a dict of logical operators and attribute paths)."""
    return _condition_test(*_compile_entries(condition, where, groups))


def _compile_entries(
    condition: Any, where: str, groups: SavedGroups
) -> tuple[tuple[tuple[str, Predicate], ...], tuple[Predicate, ...]]:
    """Compile a condition's attribute tests (keyed by first path part) and logical entries."""
    fields, logicals = _split_condition(condition, where)
    keys = tuple(_compile_field(path, value, here, groups) for path, value, here in fields)
    others = tuple(_compile_logical(op, value, here, groups) for op, value, here in logicals)
    return keys, others


def _compile_field(path: str, value: Any, where: str, groups: SavedGroups) -> tuple[str, Predicate]:
    """Compile an attribute test into (top-level name, test of that attribute's value)."""
    first, *rest = path.split(".")
    match = _compile_value(value, where, groups, fold=False)
    return first, _path_test(tuple(rest), match) if rest else match


def _compile_logical(op: str, value: Any, where: str, groups: SavedGroups) -> Predicate:
    """Compile $or, $nor or $not."""
    if op == "$not":
        inner = _compile_condition(value, where, groups)
        return lambda attributes: not inner(attributes)
    items = _check_conditions(op, value, where)
    either = _any_of(
        [_compile_condition(item, f"{where}[{i}]", groups) for i, item in enumerate(items)]
    )
    return either if op == "$or" else (lambda attributes: not either(attributes))


def _condition_test(
    keys: tuple[tuple[str, Predicate], ...], others: tuple[Predicate, ...]
) -> Predicate:
    """A nested condition's test; `keys` pairs attribute names with tests of their values,
    `others` ($or, $nor, $not) test the whole attributes."""
    if not keys and not others:
        return _always

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


def _root_test(
    keys: tuple[tuple[str, Predicate], ...], others: tuple[Predicate, ...]
) -> Callable[[dict[str, Any]], bool]:
    """The outermost condition's test: it returns False instead of raising.

    The usual segment, one to four attribute tests, gets a closure with the tests unrolled.
    """
    if not keys and not others:
        return _always
    if others or len(keys) > 4:
        inner = _condition_test(keys, others)

        def test(attributes: Any) -> bool:
            try:
                return inner(attributes)
            except Exception:  # evaluation never raises; see the module docstring
                return False

        return test
    return _few_keys_test(keys)


def _few_keys_test(keys: tuple[tuple[str, Predicate], ...]) -> Callable[[dict[str, Any]], bool]:
    """_root_test unrolled for one to four attribute tests (bool() of a chain of `and`s)."""
    (k1, m1), (k2, m2), (k3, m3), (k4, m4) = keys + (("", _always),) * (4 - len(keys))

    def test1(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                return bool(m1(attributes.get(k1)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the module docstring
            return False

    def test2(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                get = attributes.get
                return bool(m1(get(k1)) and m2(get(k2)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the module docstring
            return False

    def test3(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                get = attributes.get
                return bool(m1(get(k1)) and m2(get(k2)) and m3(get(k3)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the module docstring
            return False

    def test4(attributes: Any) -> bool:
        try:
            if type(attributes) is dict:
                get = attributes.get
                return bool(m1(get(k1)) and m2(get(k2)) and m3(get(k3)) and m4(get(k4)))
            return _keys_pass(attributes, keys)
        except Exception:  # evaluation never raises; see the module docstring
            return False

    return (test1, test2, test3, test4)[len(keys) - 1]


def _keys_pass(attributes: Any, keys: tuple[tuple[str, Predicate], ...]) -> bool:
    """The slow path of _condition_test, for attributes that are not a plain dict."""
    return all(match(_get_path(attributes, (key,))) for key, match in keys)


def _path_test(rest: tuple[str, ...], match: Predicate) -> Predicate:
    """Test the value at the rest of a dotted path (after its first part)."""
    if len(rest) == 1:
        (part,) = rest

        def test1(value: Any) -> bool:
            if type(value) is dict:
                return match(value.get(part))
            return match(_get_path(value, rest))

        return test1
    if len(rest) == 2:
        first, second = rest

        def test2(value: Any) -> bool:
            if type(value) is dict:
                value = value.get(first)
                if type(value) is dict:
                    return match(value.get(second))
                return match(_get_path(value, rest[1:]))
            return match(_get_path(value, rest))

        return test2

    def test(value: Any) -> bool:
        for part in rest:
            if type(value) is dict:
                value = value.get(part)
            elif value is None:
                break
            else:
                value = _get_path(value, (part,))
        return match(value)

    return test


def _all_of(tests: list[Predicate]) -> Predicate:
    """A test passing when every test passes (short-circuiting)."""
    if not tests:
        return _always
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


def _any_of(tests: list[Predicate]) -> Predicate:
    """A test passing when some test passes; an empty list passes, as in GrowthBook."""
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    frozen = tuple(tests)

    def some(value: Any) -> bool:
        for test in frozen:  # noqa: SIM110 - a loop is faster than any() on a generator
            if test(value):
                return True
        return False

    return some


def _compile_value(expected: Any, where: str, groups: SavedGroups, fold: bool) -> Predicate:
    """Compile what an attribute is tested against: an operator object or a literal."""
    if not _is_operator_object(expected):
        _check_literal(expected, where)
        return _literal_test(expected, fold)
    bounds: list[tuple[str, Any]] = []
    tests = []
    for op, arg in _operators_in_order(expected):
        here = f"{where}.{op}"
        if op in _ORDER:  # bounds are compiled together, e.g. into one "between" test
            _check_order_arg(op, arg, here)
            bounds.append((op, arg))
        elif op in _VALUE_COMPILERS:
            tests.append(_VALUE_COMPILERS[op](op, arg, here, groups))
        elif op in LOGICAL_OPERATORS:
            raise _fail(here, f"{op} combines conditions; it cannot test an attribute's value.")
        else:
            raise _fail(here, f"Unknown operator {op!r}.")
    return _all_of(([_order_test(bounds)] if bounds else []) + tests)


def _literal_test(expected: Any, fold: bool) -> Predicate:
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
                else _literal_equals(expected, value, True)
            )
        return lambda value: value == expected if type(value) is str else _equals(expected, value)
    if _is_number(expected):
        return lambda value: (
            value == expected if type(value) in _FAST_NUMBER_TYPES else _equals(expected, value)
        )
    return lambda value: _equals(expected, value)


def _check_order_arg(op: str, arg: Any, where: str) -> None:
    """$lt/$lte/$gt/$gte take a number or a string."""
    if not (_is_number(arg) or isinstance(arg, str)):
        raise _fail(where, f"{op} expects a number or a string, not {_describe(arg)}.")


def _order_test(checks: list[tuple[str, Any]]) -> Predicate:
    """All $lt/$lte/$gt/$gte of one operator object; "between" on numbers is one closure."""
    if len(checks) == 1:
        ((op, bound),) = checks
        if _is_number(bound):
            return _number_bound(op, bound)
        cmp = _ORDER[op]
        return lambda value: isinstance(value, str) and cmp(value, bound)
    by_op = dict(checks)
    low_op = "$gt" if "$gt" in by_op else "$gte"
    high_op = "$lt" if "$lt" in by_op else "$lte"
    if len(checks) == 2 and {low_op, high_op} == by_op.keys():
        low, high = by_op[low_op], by_op[high_op]
        if _is_number(low) and _is_number(high):
            return _number_range(low_op == "$gte", low, high_op == "$lte", high)
    return _all_of([_order_test([check]) for check in checks])


def _number_bound(op: str, bound: float) -> Predicate:
    """A single numeric bound, compared inline."""
    fast = _FAST_NUMBER_TYPES
    if op == "$lt":
        return lambda value: (type(value) in fast or _is_number(value)) and value < bound
    if op == "$lte":
        return lambda value: (type(value) in fast or _is_number(value)) and value <= bound
    if op == "$gt":
        return lambda value: (type(value) in fast or _is_number(value)) and value > bound
    return lambda value: (type(value) in fast or _is_number(value)) and value >= bound


def _number_range(low_inclusive: bool, low: float, high_inclusive: bool, high: float) -> Predicate:
    """A numeric "between", compared inline (lower bound first, as the interpreter does)."""
    fast = _FAST_NUMBER_TYPES
    if low_inclusive and high_inclusive:
        return lambda value: (
            (type(value) in fast or _is_number(value)) and value >= low and value <= high
        )
    if low_inclusive:
        return lambda value: (
            (type(value) in fast or _is_number(value)) and value >= low and value < high
        )
    if high_inclusive:
        return lambda value: (
            (type(value) in fast or _is_number(value)) and value > low and value <= high
        )
    return lambda value: (type(value) in fast or _is_number(value)) and value > low and value < high


def _c_equality(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$eq / $ne with a primitive."""
    if _type_name(arg) not in _PRIMITIVE_TYPES:
        raise _fail(
            where,
            f"{op} expects a string, number, boolean or null, not {_describe(arg)}; "
            "to compare a list or object, give it directly as the attribute's value.",
        )
    test = _literal_test(arg, fold=False)
    return test if op == "$eq" else (lambda value: not test(value))


def _c_version(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$veq/$vne/$vlt/$vlte/$vgt/$vgte: compare padded version keys."""
    if not (isinstance(arg, str) or _is_number(arg)):
        raise _fail(where, f"{op} expects a version string, not {_describe(arg)}.")
    key = _padded_version(arg)
    cmp = _VERSION_ORDER[op]
    mismatch = op == "$vne"  # a value that is not a version is "not equal"
    if isinstance(arg, str):
        return lambda value: (
            cmp(_version_key(value or "0"), key) if isinstance(value, str) else mismatch
        )
    return lambda value: cmp(_padded_version(value), key) if _is_number(value) else mismatch


def _c_regex(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$regex/$regexi/$notRegex/$notRegexi: search strings with a precompiled pattern."""
    flags, negate = _REGEX_OPERATORS[op]
    search = _compile_regex(op, arg, flags, where).search
    if negate:
        return lambda value: not (isinstance(value, str) and search(value) is not None)
    return lambda value: isinstance(value, str) and search(value) is not None


def _c_membership(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$in/$nin/$ini/$nini against a literal list."""
    items = _check_list(op, arg, where)
    _check_primitives(op, items, where)
    fold, negate = _MEMBERSHIP_OPERATORS[op]
    test = _membership_test(items, fold)
    return (lambda value: not test(value)) if negate else test


def _c_group(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$inGroup/$notInGroup: membership in a saved group, looked up at compile time."""
    if not isinstance(arg, str):
        raise _fail(where, f"{op} expects a saved group id (string), not {_describe(arg)}.")
    items = _group_items(groups, arg)
    if items is None:
        return _never
    test = _membership_test(items, fold=False)
    return test if op == "$inGroup" else (lambda value: not test(value))


def _membership_test(items: list[Any], fold: bool) -> Predicate:
    """Set-based $in: bools kept apart from numbers so that True never matches 1."""
    plain: set[Any] = set()
    bools: set[bool] = set()
    for item in items:
        kind = _type_name(item)
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
        if isinstance(value, _ARRAY_TYPES):
            return any(test(element) for element in value if not isinstance(element, _ARRAY_TYPES))
        return _is_member(value, items, fold)

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return (value.lower() if fold else value) in members
        if kind is int or kind is float or value is None:
            return value in members
        return other(value)

    return test


def _c_all(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$all/$alli: an array with a matching element for every item."""
    items = _check_list(op, arg, where)
    fold = op == "$alli"
    tests = tuple(
        _compile_value(item, f"{where}[{i}]", groups, fold) for i, item in enumerate(items)
    )

    def test(value: Any) -> bool:
        if not isinstance(value, _ARRAY_TYPES):
            return False
        return all(any(match(element) for element in value) for match in tests)

    return test


def _c_elem_match(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$elemMatch: some non-null element matches (operators, or a condition on its fields)."""
    if not isinstance(arg, dict):
        raise _fail(where, f"$elemMatch expects an object, not {_describe(arg)}.")
    if _elem_match_on_values(arg):
        match = _compile_value(arg, where, groups, fold=False)
    else:
        match = _compile_condition(arg, where, groups)

    def test(value: Any) -> bool:
        if not isinstance(value, _ARRAY_TYPES):
            return False
        return any(match(element) for element in value if element is not None)

    return test


def _c_size(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$size: the array's length equals an integer or matches an operator object."""
    if not (_is_operator_object(arg) or (isinstance(arg, int) and not isinstance(arg, bool))):
        raise _fail(where, f"$size expects an integer or an operator object, not {_describe(arg)}.")
    match = _compile_value(arg, where, groups, fold=False)
    return lambda value: isinstance(value, _ARRAY_TYPES) and match(len(value))


def _c_exists(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$exists: whether the attribute is present and not null."""
    if not isinstance(arg, bool):
        raise _fail(where, f"$exists expects true or false, not {_describe(arg)}.")
    if arg:
        return lambda value: value is not None
    return lambda value: value is None


def _c_type(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$type: the attribute's JSON type name."""
    if not isinstance(arg, str) or arg not in TYPE_NAMES:
        names = ", ".join(sorted(TYPE_NAMES))
        raise _fail(where, f"$type expects one of {names}, not {_describe(arg)}.")
    return lambda value: _type_name(value) == arg


def _c_not(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$not on a value: the operator object (or literal) must not match."""
    match = _compile_value(arg, where, groups, fold=False)
    return lambda value: not match(value)


_VALUE_COMPILERS: dict[str, Callable[[str, Any, str, SavedGroups], Predicate]] = {
    "$eq": _c_equality,
    "$ne": _c_equality,
    **dict.fromkeys(_VERSION_ORDER, _c_version),
    **dict.fromkeys(_REGEX_OPERATORS, _c_regex),
    **dict.fromkeys(_MEMBERSHIP_OPERATORS, _c_membership),
    "$all": _c_all,
    "$alli": _c_all,
    "$elemMatch": _c_elem_match,
    "$size": _c_size,
    "$exists": _c_exists,
    "$type": _c_type,
    "$not": _c_not,
    "$inGroup": _c_group,
    "$notInGroup": _c_group,
}
VALUE_OPERATORS = frozenset(_VALUE_COMPILERS) | frozenset(_ORDER)


# ---------------------------------------------------------------------------------------------
# Interpreter: walks an already validated condition dict on every call


def _eval_condition(condition: Condition, attributes: Any, groups: SavedGroups) -> bool:
    """Interpret a validated condition against attributes (may raise on odd objects)."""
    fields, logicals = _split_condition(condition, "")
    for path, expected, _ in fields:
        if not _eval_value(expected, _get_path(attributes, path.split(".")), groups, False):
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
    if not _is_operator_object(expected):
        return _literal_equals(expected, actual, fold)
    return all(_eval_operator(op, arg, actual, groups) for op, arg in _operators_in_order(expected))


def _eval_operator(op: str, arg: Any, actual: Any, groups: SavedGroups) -> bool:
    """Interpret one operator."""
    if op in _ORDER:
        return _orderable(actual, arg) and _ORDER[op](actual, arg)
    if op in _VERSION_ORDER:
        if not _orderable(actual, arg):
            return op == "$vne"
        return _VERSION_ORDER[op](_padded_version(actual), _padded_version(arg))
    if op in _REGEX_OPERATORS:
        flags, negate = _REGEX_OPERATORS[op]
        found = isinstance(actual, str) and re.compile(arg, flags).search(actual) is not None
        return found != negate
    if op in _MEMBERSHIP_OPERATORS:
        fold, negate = _MEMBERSHIP_OPERATORS[op]
        return _is_in(actual, arg, fold) != negate
    return _EVAL_OTHER[op](arg, actual, groups)


def _eval_group(arg: str, actual: Any, groups: SavedGroups, negate: bool) -> bool:
    """Interpret $inGroup/$notInGroup (a malformed group matches neither)."""
    items = _group_items(groups, arg)
    return items is not None and _is_in(actual, items, False) != negate


def _eval_all(arg: list[Any], actual: Any, groups: SavedGroups, fold: bool) -> bool:
    """Interpret $all/$alli."""
    return isinstance(actual, _ARRAY_TYPES) and all(
        any(_eval_value(item, element, groups, fold) for element in actual) for item in arg
    )


def _eval_elem_match(arg: Condition, actual: Any, groups: SavedGroups) -> bool:
    """Interpret $elemMatch."""
    if not isinstance(actual, _ARRAY_TYPES):
        return False
    on_values = _elem_match_on_values(arg)
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
    "$eq": lambda arg, actual, groups: _equals(arg, actual),
    "$ne": lambda arg, actual, groups: not _equals(arg, actual),
    "$all": lambda arg, actual, groups: _eval_all(arg, actual, groups, False),
    "$alli": lambda arg, actual, groups: _eval_all(arg, actual, groups, True),
    "$elemMatch": _eval_elem_match,
    "$size": lambda arg, actual, groups: (
        isinstance(actual, _ARRAY_TYPES) and _eval_value(arg, len(actual), groups, False)
    ),
    "$exists": lambda arg, actual, groups: (actual is not None) is arg,
    "$type": lambda arg, actual, groups: _type_name(actual) == arg,
    "$not": lambda arg, actual, groups: not _eval_value(arg, actual, groups, False),
    "$inGroup": lambda arg, actual, groups: _eval_group(arg, actual, groups, False),
    "$notInGroup": lambda arg, actual, groups: _eval_group(arg, actual, groups, True),
}
