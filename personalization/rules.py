"""The rule builder's rows (attribute, operator, value) turned into a JSON condition.

Editors never type JSON: each row becomes one clause, and the rows are combined with `$and`,
`$or` or `$nor` as the segment's "match" says. Values are typed by the attribute (numbers stay
numbers, so "age ≥ 20" compares numerically).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from personalization.attributes import BOOLEAN, CHOICE, LIST, NUMBER, attribute_for

OPERATORS: dict[str, str] = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of (comma-separated)",
    "nin": "is none of (comma-separated)",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between (e.g. 20-29)",
    "contains": "contains",
    "regex": "matches the pattern",
    "exists": "is known",
    "missing": "is not known",
    "true": "is true",
    "false": "is false",
}
OPERATOR_CHOICES = list(OPERATORS.items())
NUMERIC_ONLY = {"gt", "gte", "lt", "lte", "between"}
NO_VALUE = {"exists", "missing", "true", "false"}
_BETWEEN = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|–|~|to|,)\s*(-?\d+(?:\.\d+)?)\s*$")


class RuleError(ValueError):
    """A rule row that cannot become a condition; the message names what to fix."""


@dataclass(frozen=True)
class Rule:
    attribute: str
    operator: str
    value: str = ""


def _number(text: str) -> int | float:
    try:
        number = float(text.strip().replace(",", "").replace("¥", ""))
    except ValueError:
        raise RuleError(f"“{text}” is not a number.") from None
    return int(number) if number.is_integer() else number


def _typed(kind: str, text: str) -> Any:
    if kind == NUMBER:
        return _number(text)
    if kind == BOOLEAN:
        lowered = text.strip().lower()
        if lowered not in {"true", "false", "yes", "no"}:
            raise RuleError(f"“{text}” is not yes/no.")
        return lowered in {"true", "yes"}
    return text.strip()


def _items(kind: str, text: str) -> list[Any]:
    items = [part for part in (p.strip() for p in text.split(",")) if part]
    if not items:
        raise RuleError("Give at least one value, separated by commas.")
    return [_typed(kind, item) for item in items]


def rule_clause(rule: Rule) -> dict[str, Any]:
    """The JSON condition of one rule row."""
    attribute = attribute_for(rule.attribute)
    if attribute is None:
        raise RuleError(f"Unknown attribute “{rule.attribute}”.")
    op, kind, text = rule.operator, attribute.kind, rule.value
    if op not in OPERATORS:
        raise RuleError(f"Unknown operator “{op}”.")
    if op in NUMERIC_ONLY and kind != NUMBER:
        raise RuleError(f"“{OPERATORS[op]}” needs a number attribute; {attribute.label} is not.")
    if op not in NO_VALUE and not text.strip():
        raise RuleError(f"Give a value for {attribute.label}.")
    if kind == CHOICE and op in {"eq", "ne", "in", "nin"}:
        allowed = {value for value, _ in attribute.choices}
        given = _items(kind, text) if op in {"in", "nin"} else [text.strip()]
        unknown = [v for v in given if v not in allowed]
        if unknown:
            raise RuleError(
                f"{', '.join(unknown)} is not a value of {attribute.label} "
                f"(use one of: {', '.join(sorted(allowed))})."
            )
    return {rule.attribute: _operator_clause(op, kind, text)}


def _operator_clause(op: str, kind: str, text: str) -> Any:
    if op == "exists":
        return {"$exists": True}
    if op == "missing":
        return {"$exists": False}
    if op in {"true", "false"}:
        return {"$eq": op == "true"}
    if op == "between":
        match = _BETWEEN.match(text)
        if not match:
            raise RuleError(f"“{text}” is not a range; write it like 20-29.")
        low, high = sorted((_number(match.group(1)), _number(match.group(2))))
        return {"$gte": low, "$lte": high}
    if op in {"in", "nin"}:
        return {f"${op}": _items(kind, text)}
    if op == "contains":
        if kind == LIST:
            return {"$elemMatch": {"$eq": text.strip()}}
        return {"$regexi": re.escape(text.strip())}
    if op == "regex":
        try:
            re.compile(text)
        except re.error as exc:
            raise RuleError(f"“{text}” is not a valid pattern: {exc}.") from None
        return {"$regex": text}
    return {f"${op}": _typed(kind, text)}


def condition_from_rules(match: str, rules: Iterable[Rule]) -> dict[str, Any]:
    """All rows combined as the segment's match mode says; no rows matches nobody."""
    clauses = [rule_clause(rule) for rule in rules]
    if not clauses:
        raise RuleError("Add at least one rule, or tick 'edit the condition as JSON'.")
    combinator = {"all": "$and", "any": "$or", "none": "$nor"}.get(match)
    if combinator is None:
        raise RuleError(f"Unknown match mode “{match}”.")
    return {combinator: clauses}
