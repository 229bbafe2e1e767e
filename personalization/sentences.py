"""A segment's JSON condition read back as sentences for editors ("Pet is Cat", "Age is between
20 and 29"), so the explain page and summaries never show JSON or the rule builder's operator
hints ("is between (e.g. 20-29)").

Every attribute test of the condition language has a sentence; whatever has none (a future
operator) falls back to compact JSON rather than failing. Values of choice attributes read as
their labels ("Tokyo", not "tokyo").
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from personalization.attributes import BOOLEAN, CHOICE, attribute_for

# Logical keys of a condition; everything else names an attribute.
_LOGICAL = {"$and", "$or", "$nor", "$not"}
_ORDER = {"$gt": "more", "$gte": "least", "$lt": "less", "$lte": "most"}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def attribute_label(key: str) -> str:
    """The editor's name of an attribute key (the key itself when unknown)."""
    attribute = attribute_for(key)
    return attribute.label if attribute else key


def _value_text(key: str, value: Any) -> str:
    """One value as editors know it: a choice's label, yes/no, or the value itself."""
    attribute = attribute_for(key)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if attribute is not None and attribute.kind == CHOICE:
        labels = {str(v).lower(): label for v, label in attribute.choices}
        return labels.get(str(value).lower(), str(value))
    if value is None:
        return _("empty")
    return str(value)


def _values_text(key: str, values: Any) -> str:
    if not isinstance(values, list | tuple):
        return _value_text(key, values)
    return _(", ").join(_value_text(key, v) for v in values)


def _literal_regex(pattern: str) -> str | None:
    """The text a pattern matches literally (the rule builder's "contains"), else None."""
    unescaped = re.sub(r"\\(.)", r"\1", pattern)
    return unescaped if re.escape(unescaped) == pattern else None


def _between(key: str, ops: dict) -> str | None:
    """`{"$gte": a, "$lte": b}` (the rule builder's range) as one sentence."""
    if set(ops) != {"$gte", "$lte"}:
        return None
    return _("%(attribute)s is between %(low)s and %(high)s") % {
        "attribute": attribute_label(key),
        "low": _value_text(key, ops["$gte"]),
        "high": _value_text(key, ops["$lte"]),
    }


def _is(key: str, value: Any) -> str:
    attribute = attribute_for(key)
    if attribute is not None and attribute.kind == BOOLEAN and isinstance(value, bool):
        template = _("%(attribute)s: yes") if value else _("%(attribute)s: no")
        return template % {"attribute": attribute_label(key)}
    return _("%(attribute)s is %(value)s") % {
        "attribute": attribute_label(key),
        "value": _value_text(key, value),
    }


def _operator_sentence(key: str, op: str, arg: Any) -> str:
    """One operator applied to one attribute."""
    label = attribute_label(key)
    values = {"attribute": label, "value": _values_text(key, arg)}
    if op == "$eq":
        return _is(key, arg)
    if op == "$ne":
        return _("%(attribute)s is not %(value)s") % values
    single = isinstance(arg, list | tuple) and len(arg) == 1
    if op in {"$in", "$ini"} and single:
        return _is(key, arg[0])
    if op in {"$nin", "$nini"} and single:
        return _("%(attribute)s is not %(value)s") % values
    if op in {"$in", "$ini"}:
        return _("%(attribute)s is one of %(value)s") % values
    if op in {"$nin", "$nini"}:
        return _("%(attribute)s is none of %(value)s") % values
    if op in _ORDER:
        templates = {
            "$gt": _("%(attribute)s is more than %(value)s"),
            "$gte": _("%(attribute)s is at least %(value)s"),
            "$lt": _("%(attribute)s is less than %(value)s"),
            "$lte": _("%(attribute)s is at most %(value)s"),
        }
        return templates[op] % values
    if op == "$exists":
        template = _("%(attribute)s is known") if arg else _("%(attribute)s is not known")
        return template % values
    if op in {"$regex", "$regexi", "$notRegex", "$notRegexi"} and isinstance(arg, str):
        literal = _literal_regex(arg)
        negated = op.startswith("$not")
        if literal is not None:
            template = (
                _("%(attribute)s does not contain “%(text)s”")
                if negated
                else _("%(attribute)s contains “%(text)s”")
            )
            return template % {"attribute": label, "text": literal}
        template = (
            _("%(attribute)s does not match the pattern “%(text)s”")
            if negated
            else _("%(attribute)s matches the pattern “%(text)s”")
        )
        return template % {"attribute": label, "text": arg}
    if op == "$elemMatch" and isinstance(arg, dict) and set(arg) == {"$eq"}:
        return _("%(attribute)s include %(value)s") % {
            "attribute": label,
            "value": _value_text(key, arg["$eq"]),
        }
    if op in {"$all", "$alli"}:
        return _("%(attribute)s include all of %(value)s") % values
    if op == "$size":
        return _("%(attribute)s has %(value)s items") % values
    if op == "$inGroup":
        return _("%(attribute)s is in the saved group “%(value)s”") % values
    if op == "$notInGroup":
        return _("%(attribute)s is not in the saved group “%(value)s”") % values
    if op == "$not" and isinstance(arg, dict):
        return _("not (%(sentence)s)") % {"sentence": _attribute_sentence(key, arg)}
    return _("%(attribute)s %(operator)s %(value)s") % {
        "attribute": label,
        "operator": op.removeprefix("$"),
        "value": _json(arg),
    }


def _attribute_sentence(key: str, expected: Any) -> str:
    """An attribute's test: a literal ("is"), or one or more operators joined with "and"."""
    is_ops = (
        isinstance(expected, dict) and expected and all(str(k).startswith("$") for k in expected)
    )
    if not is_ops:
        return _is(key, expected)
    between = _between(key, expected)
    if between is not None:
        return between
    parts = [_operator_sentence(key, op, arg) for op, arg in expected.items()]
    return _(" and ").join(parts)


def _joined(parts: list[str], combinator: str) -> str:
    if combinator == "$or":
        return _(" or ").join(parts)
    if combinator == "$nor":
        return _("none of: %(sentences)s") % {"sentences": _("; ").join(parts)}
    return _(" and ").join(parts)


def condition_sentence(condition: Any) -> str:
    """The whole condition as one sentence (nested groups in brackets)."""
    if not isinstance(condition, dict):
        return _json(condition)
    parts = []
    for key, value in condition.items():
        if key in {"$and", "$or", "$nor"} and isinstance(value, list):
            inner = [condition_sentence(part) for part in value]
            text = _joined(inner, key)
            parts.append(text if len(condition) == 1 or len(inner) < 2 else f"({text})")
        elif key == "$not":
            parts.append(_("not (%(sentence)s)") % {"sentence": condition_sentence(value)})
        elif key in _LOGICAL:
            parts.append(_json({key: value}))
        else:
            parts.append(_attribute_sentence(key, value))
    return _(" and ").join(parts) if parts else _("everyone")


def top_level_clauses(condition: Any) -> tuple[str, list[Any]]:
    """(combinator, clauses) of a segment's condition: the rule builder's `{"$and": [...]}`
    and its kin, or one clause per key of any other condition (all must hold)."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((key, value),) = condition.items()
        if key in {"$and", "$or", "$nor"} and isinstance(value, list):
            return key, value
    if not isinstance(condition, dict):
        return "$and", [condition]
    return "$and", [{key: value} for key, value in condition.items()]


def condition_keys(condition: Any) -> set[str]:
    """Every attribute key a condition tests, at any depth."""
    keys: set[str] = set()
    if isinstance(condition, dict):
        for key, value in condition.items():
            if key in _LOGICAL:
                for part in value if isinstance(value, list) else [value]:
                    keys |= condition_keys(part)
            elif not str(key).startswith("$"):
                keys.add(key)
    return keys
