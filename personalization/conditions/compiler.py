"""The compiler: a condition dict becomes nested closures, built once and never raising.

Regexes are compiled, `$in` lists turned into sets and saved groups looked up at compile time,
so recompile when the groups change. Each operator checks its argument as it is built, so
`validate_condition` is this compiler run without saved groups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from personalization.conditions.language import (
    ARRAY_TYPES,
    LOGICAL_OPERATORS,
    MEMBERSHIP_OPERATORS,
    ORDER,
    PRIMITIVE_TYPES,
    REGEX_OPERATORS,
    TYPE_NAMES,
    VERSION_ORDER,
    ConditionError,
    Predicate,
    SavedGroups,
)
from personalization.conditions.predicates import (
    all_of,
    any_of,
    condition_test,
    literal_test,
    membership_test,
    never,
    order_test,
    path_test,
    root_test,
)
from personalization.conditions.validation import (
    check_conditions,
    check_list,
    check_literal,
    check_order_arg,
    check_primitives,
    check_size,
    compile_regex,
    describe,
    elem_match_on_values,
    fail,
    is_operator_object,
    operators_in_order,
    split_condition,
)
from personalization.conditions.values import (
    group_items,
    is_number,
    padded_version,
    type_name,
    version_key,
)


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
        return never


def _compile_root(condition: Any, saved_groups: SavedGroups | None) -> Predicate:
    """Check the size limits, then compile the condition (raising ConditionError)."""
    if not isinstance(condition, dict):
        raise ConditionError(
            f"A condition must be a JSON object (dict), not {describe(condition)}."
        )
    check_size(condition)
    return root_test(*_compile_entries(condition, "", saved_groups or {}))


def _compile_condition(condition: Any, where: str, groups: SavedGroups) -> Predicate:
    """Compile a nested condition (a dict of logical operators and attribute paths)."""
    return condition_test(*_compile_entries(condition, where, groups))


def _compile_entries(
    condition: Any, where: str, groups: SavedGroups
) -> tuple[tuple[tuple[str, Predicate], ...], tuple[Predicate, ...]]:
    """Compile a condition's attribute tests (keyed by first path part) and logical entries."""
    fields, logicals = split_condition(condition, where)
    keys = tuple(_compile_field(path, value, here, groups) for path, value, here in fields)
    others = tuple(_compile_logical(op, value, here, groups) for op, value, here in logicals)
    return keys, others


def _compile_field(path: str, value: Any, where: str, groups: SavedGroups) -> tuple[str, Predicate]:
    """Compile an attribute test into (top-level name, test of that attribute's value)."""
    first, *rest = path.split(".")
    match = _compile_value(value, where, groups, fold=False)
    return first, path_test(tuple(rest), match) if rest else match


def _compile_logical(op: str, value: Any, where: str, groups: SavedGroups) -> Predicate:
    """Compile $or, $nor or $not."""
    if op == "$not":
        inner = _compile_condition(value, where, groups)
        return lambda attributes: not inner(attributes)
    items = check_conditions(op, value, where)
    either = any_of(
        [_compile_condition(item, f"{where}[{i}]", groups) for i, item in enumerate(items)]
    )
    return either if op == "$or" else (lambda attributes: not either(attributes))


def _compile_value(expected: Any, where: str, groups: SavedGroups, fold: bool) -> Predicate:
    """Compile what an attribute is tested against: an operator object or a literal."""
    if not is_operator_object(expected):
        check_literal(expected, where)
        return literal_test(expected, fold)
    bounds: list[tuple[str, Any]] = []
    tests = []
    for op, arg in operators_in_order(expected):
        here = f"{where}.{op}"
        if op in ORDER:  # bounds are compiled together, e.g. into one "between" test
            check_order_arg(op, arg, here)
            bounds.append((op, arg))
        elif op in _VALUE_COMPILERS:
            tests.append(_VALUE_COMPILERS[op](op, arg, here, groups))
        elif op in LOGICAL_OPERATORS:
            raise fail(here, f"{op} combines conditions; it cannot test an attribute's value.")
        else:
            raise fail(here, f"Unknown operator {op!r}.")
    return all_of(([order_test(bounds)] if bounds else []) + tests)


def _c_equality(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$eq / $ne with a primitive."""
    if type_name(arg) not in PRIMITIVE_TYPES:
        raise fail(
            where,
            f"{op} expects a string, number, boolean or null, not {describe(arg)}; "
            "to compare a list or object, give it directly as the attribute's value.",
        )
    test = literal_test(arg, fold=False)
    return test if op == "$eq" else (lambda value: not test(value))


def _c_version(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$veq/$vne/$vlt/$vlte/$vgt/$vgte: compare padded version keys."""
    if not (isinstance(arg, str) or is_number(arg)):
        raise fail(where, f"{op} expects a version string, not {describe(arg)}.")
    key = padded_version(arg)
    cmp = VERSION_ORDER[op]
    mismatch = op == "$vne"  # a value that is not a version is "not equal"
    if isinstance(arg, str):
        return lambda value: (
            cmp(version_key(value or "0"), key) if isinstance(value, str) else mismatch
        )
    return lambda value: cmp(padded_version(value), key) if is_number(value) else mismatch


def _c_regex(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$regex/$regexi/$notRegex/$notRegexi: search strings with a precompiled pattern."""
    flags, negate = REGEX_OPERATORS[op]
    search = compile_regex(op, arg, flags, where).search
    if negate:
        return lambda value: not (isinstance(value, str) and search(value) is not None)
    return lambda value: isinstance(value, str) and search(value) is not None


def _c_membership(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$in/$nin/$ini/$nini against a literal list."""
    items = check_list(op, arg, where)
    check_primitives(op, items, where)
    fold, negate = MEMBERSHIP_OPERATORS[op]
    test = membership_test(items, fold)
    return (lambda value: not test(value)) if negate else test


def _c_group(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$inGroup/$notInGroup: membership in a saved group, looked up at compile time."""
    if not isinstance(arg, str):
        raise fail(where, f"{op} expects a saved group id (string), not {describe(arg)}.")
    items = group_items(groups, arg)
    if items is None:
        return never
    test = membership_test(items, fold=False)
    return test if op == "$inGroup" else (lambda value: not test(value))


def _c_all(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$all/$alli: an array with a matching element for every item."""
    items = check_list(op, arg, where)
    fold = op == "$alli"
    tests = tuple(
        _compile_value(item, f"{where}[{i}]", groups, fold) for i, item in enumerate(items)
    )

    def test(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        return all(any(match(element) for element in value) for match in tests)

    return test


def _c_elem_match(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$elemMatch: some non-null element matches (operators, or a condition on its fields)."""
    if not isinstance(arg, dict):
        raise fail(where, f"$elemMatch expects an object, not {describe(arg)}.")
    if elem_match_on_values(arg):
        match = _compile_value(arg, where, groups, fold=False)
    else:
        match = _compile_condition(arg, where, groups)

    def test(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        return any(match(element) for element in value if element is not None)

    return test


def _c_size(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$size: the array's length equals an integer or matches an operator object."""
    if not (is_operator_object(arg) or (isinstance(arg, int) and not isinstance(arg, bool))):
        raise fail(where, f"$size expects an integer or an operator object, not {describe(arg)}.")
    match = _compile_value(arg, where, groups, fold=False)
    return lambda value: isinstance(value, ARRAY_TYPES) and match(len(value))


def _c_exists(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$exists: whether the attribute is present and not null."""
    if not isinstance(arg, bool):
        raise fail(where, f"$exists expects true or false, not {describe(arg)}.")
    if arg:
        return lambda value: value is not None
    return lambda value: value is None


def _c_type(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$type: the attribute's JSON type name."""
    if not isinstance(arg, str) or arg not in TYPE_NAMES:
        names = ", ".join(sorted(TYPE_NAMES))
        raise fail(where, f"$type expects one of {names}, not {describe(arg)}.")
    return lambda value: type_name(value) == arg


def _c_not(op: str, arg: Any, where: str, groups: SavedGroups) -> Predicate:
    """$not on a value: the operator object (or literal) must not match."""
    match = _compile_value(arg, where, groups, fold=False)
    return lambda value: not match(value)


_VALUE_COMPILERS: dict[str, Callable[[str, Any, str, SavedGroups], Predicate]] = {
    "$eq": _c_equality,
    "$ne": _c_equality,
    **dict.fromkeys(VERSION_ORDER, _c_version),
    **dict.fromkeys(REGEX_OPERATORS, _c_regex),
    **dict.fromkeys(MEMBERSHIP_OPERATORS, _c_membership),
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
