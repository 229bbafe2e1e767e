"""Property test: the interpreter (evaluate) and the compiler (compile_condition) always agree.

Conditions come from a small random generator seeded by Hypothesis (`randoms()`; fixed seeds
with derandomize=True). A plain generator keeps the mix of operators even, where recursive
strategies skewed towards shallow logical skeletons; a failure prints the condition and the
attributes. Each condition is checked against a corpus of tricky attribute values too.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalization.conditions import compile_condition, evaluate

KEYS = ["a", "b", "c"]
PATHS = [*KEYS, "a.b", "a.c", "b.a.c", "a.0", "a.length", "c.1.b"]
GROUP_IDS = ["g1", "g2", "missing"]
TYPE_NAMES = ["string", "number", "boolean", "array", "object", "null"]
REGEXES = ["a", "^a", "b$", "a.b", "[ab]+c", "(a|B)", "^$", "A"]
VERSIONS = ["1.2.3", "1.2.3-beta", "v1.10.0", "0.9", "0", "1-2-3", "2.0.0+build", "a.b.c"]
# Few, colliding values, so that equalities and orderings actually happen.
PRIMITIVES = [None, True, False, 0, 1, 2, 1.0, 1.5, "", "a", "A", "b", "1"]
BOUNDS = [0, 1, 2, 0.5, 1.0, "", "a", "B"]
SIMPLE_OPERATORS = {
    "$eq": PRIMITIVES,
    "$ne": PRIMITIVES,
    **dict.fromkeys(["$lt", "$lte", "$gt", "$gte"], BOUNDS),
    **dict.fromkeys(["$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"], [*VERSIONS, 0, 1, 2]),
    **dict.fromkeys(["$regex", "$regexi", "$notRegex", "$notRegexi"], REGEXES),
    "$exists": [True, False],
    "$type": TYPE_NAMES,
    "$inGroup": GROUP_IDS,
    "$notInGroup": GROUP_IDS,
    "$foo": PRIMITIVES,  # unknown operator: the whole condition never matches
}
LIST_OPERATORS = ["$in", "$nin", "$ini", "$nini"]
NESTING_OPERATORS = ["$all", "$alli", "$size", "$not", "$elemMatch"]
OPERATORS = sorted([*SIMPLE_OPERATORS, *LIST_OPERATORS, *NESTING_OPERATORS])
MAX_NESTING = 3


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON-like value: mostly primitives or versions, sometimes a small list or dict."""
    roll = rng.random()
    if depth < 2 and roll < 0.15:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 2 and roll < 0.3:
        return {rng.choice(KEYS): _random_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    return rng.choice(PRIMITIVES + VERSIONS if roll < 0.4 else PRIMITIVES)


def _random_argument(rng: random.Random, op: str, depth: int) -> Any:
    """An argument for `op`, nesting value conditions for the nesting operators."""
    if op in SIMPLE_OPERATORS:
        return rng.choice(SIMPLE_OPERATORS[op])
    if op in LIST_OPERATORS:
        return [rng.choice(PRIMITIVES) for _ in range(rng.randrange(4))]
    if op in ("$all", "$alli"):
        return [_random_value_condition(rng, depth + 1) for _ in range(rng.randrange(3))]
    if op == "$size":
        return rng.randrange(3) if rng.random() < 0.5 else _random_operators(rng, depth + 1)
    if op == "$not":
        return _random_value_condition(rng, depth + 1)
    # $elemMatch: operators on the elements, or a condition on their fields
    if rng.random() < 0.5:
        return _random_operators(rng, depth + 1)
    return _random_condition(rng, depth + 1)


def _random_operators(rng: random.Random, depth: int) -> dict[str, Any]:
    """An operator object: one or two operators, or a "between" pair of bounds."""
    if rng.random() < 0.2:
        low, high = rng.choice(["$gt", "$gte"]), rng.choice(["$lt", "$lte"])
        return {low: rng.choice(BOUNDS), high: rng.choice(BOUNDS)}
    usable = OPERATORS if depth < MAX_NESTING else [*SIMPLE_OPERATORS, *LIST_OPERATORS]
    ops = [rng.choice(usable) for _ in range(rng.randrange(1, 3))]
    return {op: _random_argument(rng, op, depth) for op in ops}


def _random_value_condition(rng: random.Random, depth: int) -> Any:
    """What an attribute is tested against: mostly operators, sometimes a literal."""
    return _random_value(rng) if rng.random() < 0.25 else _random_operators(rng, depth)


def _random_condition(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A condition: attribute tests, possibly mixed with $and/$or/$nor/$not."""
    condition: dict[str, Any] = {
        rng.choice(PATHS): _random_value_condition(rng, depth) for _ in range(rng.randrange(4))
    }
    if depth < MAX_NESTING and rng.random() < 0.35:
        op = rng.choice(["$and", "$or", "$nor", "$not"])
        if op == "$not":
            condition[op] = _random_condition(rng, depth + 1)
        else:
            condition[op] = [_random_condition(rng, depth + 1) for _ in range(rng.randrange(3))]
    return condition


class Explosive(str):
    """A string that raises when compared: errors must fail the whole condition in both."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("boom")

    def __gt__(self, other: object) -> bool:
        raise RuntimeError("boom")


# Every condition is also checked against these: each key holding the same tricky value.
TRICKY_VALUES = [
    Explosive("a"), [1, Explosive("a")], {"b": Explosive("b"), "c": 1}, ("a", 1), ((None,),),
    None, True, False, 0, 1, 2, 1.0, 1.5, "", "a", "A", "1", "1.2.3", [], [None], [1, True],
    [False, "a"], [[1]], [{"b": 1}, None], [{"a": "A", "b": [True]}], {"b": 1, "c": [1, None]},
    {"a": {"c": "a"}, "b": None}, {"0": 1, "length": 2},
]  # fmt: skip
ATTRIBUTE_CORPUS = [dict.fromkeys(KEYS, value) for value in TRICKY_VALUES]


def _random_attributes(rng: random.Random) -> dict[str, Any]:
    """A random attributes dict over KEYS."""
    return {key: _random_value(rng) for key in KEYS if rng.random() < 0.8}


def _random_groups(rng: random.Random) -> dict[str, list[Any]]:
    """Saved groups g1 and g2 (the id "missing" stays unknown)."""
    return {gid: [rng.choice(PRIMITIVES) for _ in range(rng.randrange(4))] for gid in GROUP_IDS[:2]}


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rng=st.randoms(use_true_random=True))
def test_compiled_agrees_with_interpreter(rng: random.Random) -> None:
    """For any condition, attributes and saved groups, both evaluators return the same bool."""
    condition, groups = _random_condition(rng), _random_groups(rng)
    attribute_dicts = [_random_attributes(rng), *ATTRIBUTE_CORPUS]
    # Each entry on its own too (in the whole, one failing entry often hides the others), and
    # a few operator objects on plain keys, which resolve against every value in the corpus.
    entries = [{key: value} for key, value in condition.items()]
    flat = [{rng.choice(KEYS): _random_operators(rng, 1)} for _ in range(4)]
    for tested in [condition, *entries, *flat]:
        compiled = compile_condition(tested, groups)
        for attributes in attribute_dicts:
            expected = evaluate(tested, attributes, groups)
            assert isinstance(expected, bool)
            assert compiled(attributes) is expected, (tested, attributes, groups)


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(rng=st.randoms(use_true_random=True))
def test_elem_match_agrees(rng: random.Random) -> None:
    """$elemMatch over elements of every kind (dicts, None, lists, scalars) agrees as well."""
    element_test = _random_operators(rng, 1) if rng.random() < 0.5 else _random_condition(rng, 1)
    condition = {"a": {"$elemMatch": element_test}}
    for element in [_random_attributes(rng), *TRICKY_VALUES]:
        attributes = {"a": [None, element]}
        expected = evaluate(condition, attributes)
        assert compile_condition(condition)(attributes) is expected, (condition, attributes)
