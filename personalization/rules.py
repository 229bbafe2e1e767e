"""The rule builder's rows (attribute, operator, value) turned into a JSON condition, and read
back as one sentence.

Editors never type JSON: each row becomes one clause, and the rows are combined with `$and`,
`$or` or `$nor` as the segment's "match" says. Values are typed by the attribute (numbers stay
numbers, so "age ≥ 20" compares numerically), each type offers only the operators that make
sense for it (no "Pet is more than"), and choice values are matched without regard to case,
both when the editor gives them ("Tokyo" is `tokyo`) and when a visitor is tested (a pet
declared as "Dog" through the API is a dog).

A row's value is stored as text, as it always was: numbers as typed, ranges as `20-29`, lists
comma-separated, so segments saved before the typed rows keep loading and saving unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from personalization.attributes import (
    BOOLEAN,
    CHOICE,
    LIST,
    NUMBER,
    STRING,
    Attribute,
    attribute_for,
)

OPERATORS: dict[str, Any] = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "in": gettext_lazy("is one of"),
    "nin": gettext_lazy("is none of"),
    "gt": gettext_lazy("is more than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "between": gettext_lazy("is between"),
    "contains": gettext_lazy("contains"),
    "regex": gettext_lazy("matches the pattern"),
    "exists": gettext_lazy("is known"),
    "missing": gettext_lazy("is not known"),
    "true": gettext_lazy("is true"),
    "false": gettext_lazy("is false"),
}
OPERATOR_CHOICES = list(OPERATORS.items())
NUMERIC_ONLY = {"gt", "gte", "lt", "lte", "between"}
NO_VALUE = {"exists", "missing", "true", "false"}
MULTIPLE = {"in", "nin"}

# The operators that fit each kind of attribute, in the order the rule builder offers them.
KIND_OPERATORS: dict[str, tuple[str, ...]] = {
    CHOICE: ("eq", "ne", "in", "nin", "exists", "missing"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "nin", "exists", "missing"),
    STRING: ("eq", "ne", "contains", "in", "nin", "regex", "exists", "missing"),
    BOOLEAN: ("true", "false"),
    LIST: ("contains", "in", "nin", "exists", "missing"),
}
# Where a kind reads better with its own words ("Categories bought includes cat-food").
KIND_OPERATOR_LABELS: dict[str, dict[str, Any]] = {
    LIST: {
        "contains": gettext_lazy("includes"),
        "in": gettext_lazy("includes any of"),
        "nin": gettext_lazy("includes none of"),
    },
}
_BETWEEN = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|~|to|,)\s*(-?\d+(?:\.\d+)?)\s*$")


class RuleError(ValueError):
    """A rule row that cannot become a condition; the message names what to fix."""


@dataclass(frozen=True)
class Rule:
    attribute: str
    operator: str
    value: str = ""


def operators_for(attribute: Attribute) -> tuple[str, ...]:
    """The operators the rule builder offers for `attribute`."""
    return KIND_OPERATORS.get(attribute.kind, tuple(OPERATORS))


def operator_label(op: str, kind: str = "") -> str:
    """An operator's words for an attribute of `kind` ("includes" for lists, else "contains")."""
    label = KIND_OPERATOR_LABELS.get(kind, {}).get(op) or OPERATORS.get(op, op)
    return str(label)


def _number(text: str) -> int | float:
    try:
        number = float(text.strip().replace(",", "").replace("¥", ""))
    except ValueError:
        raise RuleError(_("“%(value)s” is not a number.") % {"value": text.strip()}) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RuleError(_("“%(value)s” is not a number.") % {"value": text.strip()})
    return int(number) if number.is_integer() else number


def _choice(attribute: Attribute, text: str) -> str:
    """The known value `text` names, ignoring case (by value or by label); else RuleError."""
    wanted = text.strip().casefold()
    for value, label in attribute.choices:
        if wanted in (value.casefold(), str(label).casefold()):
            return value
    raise RuleError(
        _("“%(value)s” is not a value of %(attribute)s.")
        % {"value": text.strip(), "attribute": attribute.label}
    )


def _typed(attribute: Attribute, text: str) -> Any:
    if attribute.kind == NUMBER:
        return _number(text)
    if attribute.kind == CHOICE:
        return _choice(attribute, text)
    if attribute.kind == BOOLEAN:
        lowered = text.strip().lower()
        if lowered not in {"true", "false", "yes", "no"}:
            raise RuleError(_("“%(value)s” is not yes or no.") % {"value": text.strip()})
        return lowered in {"true", "yes"}
    return text.strip()


def _items(attribute: Attribute, text: str) -> list[Any]:
    items = [part for part in (p.strip() for p in text.split(",")) if part]
    if not items:
        raise RuleError(_("Give at least one value."))
    return list(dict.fromkeys(_typed(attribute, item) for item in items))


def _range(text: str) -> tuple[int | float, int | float]:
    match = _BETWEEN.match(text)
    if not match:
        raise RuleError(_("“%(value)s” is not a range; give both ends.") % {"value": text.strip()})
    low, high = sorted((_number(match.group(1)), _number(match.group(2))))
    return low, high


def _checked_attribute(rule: Rule) -> Attribute:
    """The rule's attribute, once its operator is known to fit it and a value is given."""
    attribute = attribute_for(rule.attribute)
    if attribute is None:
        raise RuleError(_("Unknown attribute “%(key)s”.") % {"key": rule.attribute})
    op = rule.operator
    if op not in OPERATORS:
        raise RuleError(_("Choose how to compare %(attribute)s.") % {"attribute": attribute.label})
    if op not in operators_for(attribute):
        words = {"operator": operator_label(op), "attribute": attribute.label}
        if op in NUMERIC_ONLY:
            raise RuleError(
                _("“%(operator)s” needs a number attribute; %(attribute)s is not.") % words
            )
        raise RuleError(_("“%(operator)s” does not fit %(attribute)s.") % words)
    if op not in NO_VALUE and not rule.value.strip():
        raise RuleError(_("Give a value for %(attribute)s.") % {"attribute": attribute.label})
    return attribute


def rule_clause(rule: Rule) -> dict[str, Any]:
    """The JSON condition of one rule row; RuleError (one short message) when it has none."""
    attribute = _checked_attribute(rule)
    return {rule.attribute: _operator_clause(rule.operator, attribute, rule.value)}


def _operator_clause(op: str, attribute: Attribute, text: str) -> Any:
    kind = attribute.kind
    if op == "exists":
        return {"$exists": True}
    if op == "missing":
        return {"$exists": False}
    if op in {"true", "false"}:
        return {"$eq": op == "true"}
    if op == "between":
        low, high = _range(text)
        return {"$gte": low, "$lte": high}
    if kind == CHOICE and op in {"eq", "ne", "in", "nin"}:
        # Case-insensitive membership: a value stored as "Dog" still matches the choice "dog".
        values = _items(attribute, text) if op in MULTIPLE else [_choice(attribute, text)]
        return {"$ini" if op in {"eq", "in"} else "$nini": values}
    if op in MULTIPLE:
        return {f"${op}": _items(attribute, text)}
    if op == "contains":
        if kind == LIST:
            return {"$elemMatch": {"$eq": text.strip()}}
        return {"$regexi": re.escape(text.strip())}
    if op == "regex":
        try:
            re.compile(text)
        except re.error as exc:
            raise RuleError(
                _("“%(value)s” is not a valid pattern: %(error)s.") % {"value": text, "error": exc}
            ) from None
        return {"$regex": text}
    return {f"${op}": _typed(attribute, text)}


def condition_from_rules(match: str, rules: Iterable[Rule]) -> dict[str, Any]:
    """All rows combined as the segment's match mode says; no rows matches nobody."""
    clauses = [rule_clause(rule) for rule in rules]
    if not clauses:
        raise RuleError(_("Add at least one rule, or tick 'edit the condition as JSON'."))
    combinator = {"all": "$and", "any": "$or", "none": "$nor"}.get(match)
    if combinator is None:
        raise RuleError(_("Unknown match mode “%(match)s”.") % {"match": match})
    return {combinator: clauses}
