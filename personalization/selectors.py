"""Reads about visitors and segments for the admin and the API (no writes here)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from personalization.attributes import attribute_for
from personalization.conditions import ConditionError, evaluate
from personalization.models import SavedGroup, Segment, Visitor
from personalization.rules import OPERATORS


@dataclass(frozen=True)
class ClauseResult:
    """One rule of a segment and whether the visitor satisfied it."""

    label: str
    matched: bool


@dataclass(frozen=True)
class SegmentExplanation:
    """Why a visitor is (or is not) in a segment: each rule, and the one that decided."""

    segment_id: int
    name: str
    priority: int
    matched: bool
    clauses: list[ClauseResult]
    decided_by: str


def visitor_find(query: str) -> tuple[Visitor | None, Any]:
    """A visitor by id (uuid) or a member by email; returns (visitor, user)."""
    query = query.strip()
    user = get_user_model().objects.filter(email__iexact=query).select_related("profile").first()
    if user is not None:
        return Visitor.objects.filter(user=user).first(), user
    try:
        visitor_uuid = uuid.UUID(query)
    except ValueError:
        return None, None
    visitor = Visitor.objects.select_related("user__profile").filter(uuid=visitor_uuid).first()
    if visitor is None:
        return None, None
    if visitor.merged_into_id:
        visitor = visitor.merged_into
    return visitor, visitor.user


def _rule_label(rule) -> str:
    attribute = attribute_for(rule.attribute)
    label = attribute.label if attribute else rule.attribute
    return f"{label} {OPERATORS.get(rule.operator, rule.operator)} {rule.value}".strip()


def _clauses(segment: Segment) -> tuple[str, list[tuple[str, dict]]]:
    condition = segment.condition or {}
    combinator = next(iter(condition), "") if len(condition) == 1 else ""
    if combinator in {"$and", "$or", "$nor"} and isinstance(condition[combinator], list):
        parts = condition[combinator]
    else:
        combinator, parts = "$and", [{key: value} for key, value in condition.items()]
    rules = list(segment.rules.all()) if not segment.advanced else []
    labels = (
        [_rule_label(r) for r in rules]
        if len(rules) == len(parts)
        else [json.dumps(p, ensure_ascii=False) for p in parts]
    )
    return combinator, list(zip(labels, parts, strict=True))


def segment_explain(segment: Segment, attributes: dict, groups: dict) -> SegmentExplanation:
    """Evaluate each rule of `segment` on its own to show which one decided the outcome."""
    combinator, parts = _clauses(segment)
    results = []
    for label, clause in parts:
        try:
            results.append(ClauseResult(label, evaluate(clause, attributes, groups)))
        except ConditionError:
            results.append(ClauseResult(label, False))
    try:
        matched = evaluate(segment.condition, attributes, groups)
    except ConditionError:
        matched = False
    return SegmentExplanation(
        segment.pk,
        segment.name,
        segment.priority,
        matched,
        results,
        _decider(combinator, results, matched),
    )


def _decider(combinator: str, results: list[ClauseResult], matched: bool) -> str:
    if not results:
        return _("no rules")
    if combinator == "$or":
        hit = next((r.label for r in results if r.matched), None)
        return hit if matched and hit else _("no rule matched")
    if combinator == "$nor":
        hit = next((r.label for r in results if r.matched), None)
        if hit:
            return _("excluded by: %(rule)s") % {"rule": hit}
        return _("none of the rules matched")
    miss = next((r.label for r in results if not r.matched), None)
    return _("failed: %(rule)s") % {"rule": miss} if miss else _("all rules matched")


def segments_explain(attributes: dict) -> list[SegmentExplanation]:
    """Every enabled segment explained for these attributes, highest priority first."""
    groups = dict(SavedGroup.objects.values_list("key", "values"))
    segments = Segment.objects.filter(enabled=True).prefetch_related("rules")
    return [segment_explain(s, attributes, groups) for s in segments]


# WHAT IS HELD ABOUT A VISITOR
# ------------------------------------------------------------------------------
