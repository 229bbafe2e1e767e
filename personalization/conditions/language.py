"""The condition language's vocabulary: operators, size limits, the error type, type aliases.

Every other module of the package imports from here; this one imports only the standard library.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_DEPTH = 32  # nested dicts/lists in one condition, counting the condition itself
MAX_NODES = 5000  # dicts, lists and scalars in one condition, all counted
MAX_REGEX_LENGTH = 500

Condition = dict[str, Any]
Predicate = Callable[[Any], bool]
SavedGroups = Mapping[str, Any]

LOGICAL_OPERATORS = frozenset({"$and", "$or", "$nor", "$not"})
TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null"})
PRIMITIVE_TYPES = frozenset({"null", "boolean", "number", "string"})
ARRAY_TYPES = (list, tuple)
ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
VERSION_ORDER = {
    "$veq": operator.eq,
    "$vne": operator.ne,
    "$vlt": operator.lt,
    "$vlte": operator.le,
    "$vgt": operator.gt,
    "$vgte": operator.ge,
}
REGEX_OPERATORS = {
    "$regex": (0, False),
    "$regexi": (re.IGNORECASE, False),
    "$notRegex": (0, True),
    "$notRegexi": (re.IGNORECASE, True),
}
MEMBERSHIP_OPERATORS = {
    "$in": (False, False),
    "$nin": (False, True),
    "$ini": (True, False),
    "$nini": (True, True),
}

# Value operators without a table of their own above.
_OTHER_VALUE_OPERATORS = frozenset(
    {
        "$eq",
        "$ne",
        "$all",
        "$alli",
        "$elemMatch",
        "$size",
        "$exists",
        "$type",
        "$not",
        "$inGroup",
        "$notInGroup",
    }
)
# Every operator that tests an attribute's value (the compiler and the interpreter each have one
# entry per operator here; tests/personalization/test_conditions_layout.py checks it).
VALUE_OPERATORS = (
    frozenset(ORDER)
    | frozenset(VERSION_ORDER)
    | frozenset(REGEX_OPERATORS)
    | frozenset(MEMBERSHIP_OPERATORS)
    | _OTHER_VALUE_OPERATORS
)


class ConditionError(ValueError):
    """A condition that is malformed, unsupported or too large to evaluate safely."""
