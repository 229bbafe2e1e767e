"""Malformed conditions are rejected with clear messages; odd attributes never raise."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalization.conditions import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_REGEX_LENGTH,
    ConditionError,
    compile_condition,
    evaluate,
    validate_condition,
)


def _nested_not(depth: int) -> dict[str, Any]:
    """A condition bomb: `depth` levels of $not around a tiny condition."""
    condition: dict[str, Any] = {"a": 1}
    for _ in range(depth):
        condition = {"$not": condition}
    return condition


BAD_CONDITIONS = [
    pytest.param(["a", 1], r"must be a JSON object \(dict\), not \['a', 1\] \(list\)", id="list"),
    pytest.param(None, r"must be a JSON object \(dict\), not None", id="none"),
    pytest.param("a == 1", r"must be a JSON object", id="string"),
    pytest.param({"name": {"$foo": 1}}, r"Unknown operator '\$foo'.*at name\.\$foo", id="unknown"),
    pytest.param(
        {"$and": [{"x": {"$regx": "a"}}]}, r"Unknown operator '\$regx'", id="unknown-nested"
    ),
    pytest.param({"num": {"$in": 1}}, r"\$in expects a list, not 1 \(int\)", id="in-not-list"),
    pytest.param({"num": {"$nin": "abc"}}, r"\$nin expects a list", id="nin-not-list"),
    pytest.param({"num": {"$all": {"a": 1}}}, r"\$all expects a list", id="all-not-list"),
    pytest.param(
        {"tags": {"$in": [["a"]]}}, r"\$in items must be strings, numbers", id="in-nested-list"
    ),
    pytest.param({"tags": {"$size": "3"}}, r"\$size expects an integer", id="size-string"),
    pytest.param({"tags": {"$size": 2.5}}, r"\$size expects an integer", id="size-float"),
    pytest.param({"tags": {"$size": True}}, r"\$size expects an integer", id="size-bool"),
    pytest.param({"tags": {"$size": {"n": 1}}}, r"\$size expects an integer", id="size-literal"),
    pytest.param(
        {"ua": {"$regex": 5}}, r"\$regex expects a regular expression string", id="re-int"
    ),
    pytest.param(
        {"ua": {"$regexi": "/???***[)"}}, r"\$regexi has an invalid regular expression", id="re-bad"
    ),
    pytest.param(
        {"ua": {"$notRegex": "a" * (MAX_REGEX_LENGTH + 1)}},
        rf"\$notRegex pattern is {MAX_REGEX_LENGTH + 1} characters long; "
        rf"the limit is {MAX_REGEX_LENGTH}",
        id="re-too-long",
    ),
    pytest.param({"age": {"$gt": None}}, r"\$gt expects a number or a string", id="gt-null"),
    pytest.param({"age": {"$lte": [1]}}, r"\$lte expects a number or a string", id="lte-list"),
    pytest.param({"v": {"$vgt": True}}, r"\$vgt expects a version string", id="version-bool"),
    pytest.param(
        {"a": {"$eq": [1, 2]}}, r"\$eq expects a string, number, boolean or null", id="eq"
    ),
    pytest.param({"a": {"$exists": "yes"}}, r"\$exists expects true or false", id="exists"),
    pytest.param({"a": {"$type": "integer"}}, r"\$type expects one of array, boolean", id="type"),
    pytest.param({"a": {"$inGroup": 3}}, r"\$inGroup expects a saved group id", id="group"),
    pytest.param({"a": {"$elemMatch": [1]}}, r"\$elemMatch expects an object", id="elem-match"),
    pytest.param({"$and": {"a": 1}}, r"\$and expects a list of conditions", id="and-not-list"),
    pytest.param(
        {"$or": [{"a": 1}, 2]}, r"Expected a condition object.*at \$or\[1\]", id="or-item"
    ),
    pytest.param({"$not": [{"a": 1}]}, r"Expected a condition object", id="not-list"),
    pytest.param({"$in": [1, 2]}, r"\$in is a value operator; apply it to an attribute", id="top"),
    pytest.param(
        {"a": {"$or": [{"$eq": 1}]}}, r"\$or combines conditions; it cannot test", id="or-value"
    ),
    pytest.param({1: "a"}, r"Attribute names must be strings", id="int-key"),
    pytest.param({"when": {1, 2}}, r"Unsupported value \{1, 2\} \(set\)", id="set-literal"),
    pytest.param(_nested_not(1000), rf"nested too deeply: more than {MAX_DEPTH}", id="deep-bomb"),
    pytest.param(
        {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
        r"nested too deeply",
        id="deep-literal",
    ),
    pytest.param(
        {"$or": [{"a": {"$gt": i}} for i in range(MAX_NODES)]},
        rf"too large: more than {MAX_NODES} values",
        id="node-bomb",
    ),
]


@pytest.mark.parametrize(("condition", "message"), BAD_CONDITIONS)
def test_validate_rejects_with_message(condition: Any, message: str) -> None:
    """validate_condition raises ConditionError whose message names the problem."""
    with pytest.raises(ConditionError, match=message):
        validate_condition(condition)


@pytest.mark.parametrize(("condition", "message"), BAD_CONDITIONS)
def test_malformed_conditions_never_match(condition: Any, message: str) -> None:
    """A malformed condition compiles (without raising) to something that never matches."""
    attributes = {"a": 1, "num": 1, "tags": [1, 2], "ua": "a", "age": 3, "v": "1.0.0"}
    assert compile_condition(condition)(attributes) is False
    assert evaluate(condition, attributes) is False
    assert compile_condition({"$not": condition})(attributes) is False


def test_condition_error_is_a_value_error() -> None:
    """Callers can catch ConditionError as ValueError (e.g. in form validation)."""
    assert issubclass(ConditionError, ValueError)


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"age": {"$gte": 20, "$lt": 30}, "gender": "female", "region": {"$in": ["eu", "us"]}},
        {"behaviour.views.dogs": {"$gte": 3}, "$or": [{"tier": "gold"}, {"$not": {"x": None}}]},
        {"tags": {"$size": {"$gt": 2}}, "ua": {"$regex": "a" * MAX_REGEX_LENGTH}},
        {"hobbies": {"$elemMatch": {"name": {"$regexi": "^ping"}}}},
        {"$groups": {"$elemMatch": {"$eq": "a"}}},  # a top-level $-key other than $and etc.
        _nested_not(MAX_DEPTH - 2),
        {"$or": [{"a": 1}] * (MAX_NODES // 4)},
    ],
)
def test_validate_accepts_good_conditions(condition: dict[str, Any]) -> None:
    """Well-formed conditions, including ones near the limits, validate."""
    assert validate_condition(condition) is None


class RaisingStr(str):
    """A string whose comparisons blow up."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("boom")

    def __gt__(self, other: object) -> bool:
        raise RuntimeError("boom")


class RaisingFloat(float):
    """A number whose comparisons blow up."""

    __hash__ = float.__hash__

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("boom")

    def __gt__(self, other: object) -> bool:
        raise RuntimeError("boom")


class RaisingDict(dict):
    """Attributes whose reads blow up."""

    def get(self, key: Any, default: Any = None) -> Any:
        raise KeyError(key)


class Unhashable:
    """Not JSON, not hashable, not comparable."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        raise TypeError("no")


SELF_REFERENCING: dict[str, Any] = {"name": "x"}
SELF_REFERENCING["self"] = SELF_REFERENCING
DEEP_VALUE: Any = 1
for _ in range(5000):
    DEEP_VALUE = [DEEP_VALUE]


@pytest.mark.parametrize(
    ("condition", "attributes"),
    [
        pytest.param({"name": "x"}, {"name": RaisingStr("x")}, id="eq-raises"),
        pytest.param({"$not": {"name": "x"}}, {"name": RaisingStr("x")}, id="not-eq-raises"),
        pytest.param({"name": {"$gt": "a"}}, {"name": RaisingStr("b")}, id="order-raises"),
        pytest.param({"$nor": [{"age": {"$gt": 1}}]}, {"age": RaisingFloat(2)}, id="nor-raises"),
        pytest.param({"name": {"$ne": "x"}}, RaisingDict(name="y"), id="get-raises"),
        pytest.param({"$not": {"name": "x"}}, RaisingDict(name="y"), id="not-get-raises"),
    ],
)
def test_errors_during_evaluation_return_false(condition: dict[str, Any], attributes: Any) -> None:
    """An exception anywhere fails the whole condition: no raise, and no $not turning it true."""
    assert compile_condition(condition)(attributes) is False
    assert evaluate(condition, attributes) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Operator objects test bounds first: the raising $gt is met before $exists fails.
        pytest.param({"$not": {"name": {"$exists": False, "$gt": "a"}}}, False, id="bounds"),
        # Conditions test attributes before $or/$nor/$not: age fails before $or raises.
        pytest.param({"$not": {"$or": [{"name": "x"}], "age": 1}}, True, id="fields-first"),
    ],
)
def test_evaluation_order_is_shared(condition: dict[str, Any], expected: bool) -> None:
    """Both evaluators short-circuit in the same order, so they meet the same errors."""
    attributes = {"name": RaisingStr("b"), "age": 2}
    assert compile_condition(condition)(attributes) is expected
    assert evaluate(condition, attributes) is expected


ODD_ATTRIBUTES = [
    None,
    [],
    "name",
    42,
    {"name": Unhashable(), "tags": [Unhashable(), {1, 2}], "age": math.nan},
    {"name": b"x", "age": 10**400, "tags": (1, "a"), "v": object()},
    SELF_REFERENCING,
    {"name": DEEP_VALUE, "tags": DEEP_VALUE, "age": -math.inf},
]
ODD_CONDITIONS = [
    {"name": "x"},
    {"name": {"$in": ["x", 1, None, True]}},
    {"name": {"$nin": ["x"]}, "age": {"$gte": 0, "$lt": 100}},
    {"tags": {"$elemMatch": {"$eq": 1}}},
    {"tags": {"$all": [1, "A"]}, "name": {"$exists": True}},
    {"tags": {"$size": {"$gt": 0}}, "v": {"$vgt": "1.0.0"}},
    {"name": {"$regex": "x"}, "self.self.self.name": "x"},
    {"name": [[1]], "tags": {"a": [1]}},
    {"$or": [{"name": {"$type": "string"}}, {"$not": {"age": {"$ne": None}}}]},
]


@pytest.mark.parametrize("attributes", ODD_ATTRIBUTES)
@pytest.mark.parametrize("condition", ODD_CONDITIONS)
def test_odd_attributes_never_raise(condition: dict[str, Any], attributes: Any) -> None:
    """Non-dict attributes, non-JSON values, NaN, cycles and deep nesting: a bool, no raise."""
    result = compile_condition(condition)(attributes)
    assert isinstance(result, bool)
    assert result is evaluate(condition, attributes)


def test_odd_values_follow_strict_rules() -> None:
    """Spot checks of what odd values do: NaN orders with nothing, tuples are arrays."""
    assert compile_condition({"age": {"$gte": 0}})({"age": math.nan}) is False
    assert compile_condition({"age": {"$ne": 1}})({"age": math.nan}) is True
    assert compile_condition({"tags": {"$in": ["a"]}})({"tags": ("b", "a")}) is True
    assert compile_condition({"self.self.name": "x"})(SELF_REFERENCING) is True
    assert compile_condition({"name": {"$regex": "x"}})({"name": b"x"}) is False


def test_long_regex_is_rejected_before_compiling() -> None:
    """A catastrophic-backtracking pattern padded past the limit is refused outright."""
    pattern = "(a+)+$" + "|x" * MAX_REGEX_LENGTH
    with pytest.raises(ConditionError, match=re.escape(f"the limit is {MAX_REGEX_LENGTH}")):
        validate_condition({"a": {"$regex": pattern}})


# Garbage: JSON-like values with operator keys in every position, plus Python oddities.
garbage_keys = st.sampled_from(
    ["a", "a.b", "$and", "$or", "$not", "$in", "$gt", "$regex", "$size", "$elemMatch", "$x", 1]
)
garbage_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(),
    st.sampled_from(["", "a", "(", "string", "g1", "a" * 600]),
    st.frozensets(st.integers(0, 2), max_size=2),
)
garbage = st.recursive(
    garbage_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner),
        st.dictionaries(garbage_keys, inner, max_size=3),
    ),
    max_leaves=8,
)


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(condition=garbage, attributes=garbage)
def test_garbage_never_escapes(condition: Any, attributes: Any) -> None:
    """Whatever the input: validate raises only ConditionError, compile and evaluate never raise."""
    try:
        validate_condition(condition)
    except ConditionError as error:
        assert str(error)
    result = compile_condition(condition, {"g1": [1, "a"]})(attributes)
    assert isinstance(result, bool)
    assert evaluate(condition, attributes, {"g1": [1, "a"]}) is result
