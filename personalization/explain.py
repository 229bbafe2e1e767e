"""Reads for "explain a visitor": finding a visitor by what editors know (a member's e-mail or
name, a declared name, or from the list of recent visitors — never by the cookie id, which is
as good as a log-in and is not shown), and each segment's decision rule by rule, in sentences.

Outside a request nothing about the request is known (device, UTM, country, time of day), so a
rule on a request attribute is "not known outside a request" — neither matched nor failed — and
a segment that hangs on one says it depends on the request.

Apps above the core add what they know about a visitor through the `explain_visitor_sections`
hook: a function `(resolution) -> dict` whose result the page shows (cms: which variant of each
personalized page this visitor would see), so this module imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from personalization.attributes import static_attributes
from personalization.conditions import evaluate
from personalization.models import SavedGroup, Segment, Visitor
from personalization.sentences import condition_keys, condition_sentence, top_level_clauses

YES, NO, UNKNOWN = "yes", "no", "unknown"
RECENT_VISITORS = 50
MAX_MATCHES = 50


@dataclass(frozen=True)
class Clause:
    """One rule of a segment as a sentence, and whether this visitor satisfies it."""

    sentence: str
    state: str  # YES, NO or UNKNOWN (a request attribute)


@dataclass(frozen=True)
class SegmentDecision:
    """Whether a visitor is in a segment, and each of its rules."""

    segment_id: int
    name: str
    priority: int
    state: str
    combinator: str
    clauses: list[Clause]

    @property
    def matched(self) -> bool:
        return self.state == YES


@dataclass(frozen=True)
class VisitorRow:
    """A visitor as the list shows them: who they are, without their cookie id."""

    pk: int
    label: str
    member_email: str
    last_seen_at: Any
    visit_count: int


def request_keys() -> frozenset[str]:
    """Attribute keys known only while a request is served."""
    return frozenset(a.key for a in static_attributes() if a.group == "Request")


def _label(visitor: Visitor) -> str:
    user = visitor.user
    if user is not None:
        full = user.get_full_name().strip()
        return f"{full} <{user.email}>" if full else user.email or user.get_username()
    name = (visitor.traits or {}).get("name")
    if name:
        return _("%(name)s (visitor, not a member)") % {"name": name}
    return _("Anonymous visitor")


def visitor_row(visitor: Visitor) -> VisitorRow:
    return VisitorRow(
        visitor.pk,
        _label(visitor),
        visitor.user.email if visitor.user_id else "",
        visitor.last_seen_at,
        visitor.visit_count,
    )


def _visitors() -> QuerySet[Visitor]:
    return Visitor.objects.filter(merged_into__isnull=True).select_related("user__profile")


def visitors_recent(limit: int = RECENT_VISITORS) -> list[VisitorRow]:
    """The most recently seen visitors, members and anonymous alike."""
    rows = _visitors().exclude(last_seen_at__isnull=True).order_by("-last_seen_at")[:limit]
    return [visitor_row(v) for v in rows]


def visitors_search(query: str) -> list[VisitorRow]:
    """Visitors whose member e-mail, member name or declared name contains `query`; an exact
    e-mail comes first. Members who never visited are found too (as their own row)."""
    query = query.strip()
    if not query:
        return []
    User = get_user_model()
    users = User.objects.filter(
        Q(email__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(username__iexact=query)
    )
    visitors = _visitors().filter(Q(user__in=users) | Q(traits__name__icontains=query))
    visitors = visitors.order_by("-last_seen_at")[:MAX_MATCHES]
    rows = [visitor_row(v) for v in visitors]
    exact = [r for r in rows if r.member_email.lower() == query.lower()]
    return exact + [r for r in rows if r not in exact]


def member_without_visits(query: str):
    """A member found by exact e-mail who has no visitor row yet (never visited the site)."""
    user = get_user_model().objects.filter(email__iexact=query.strip()).first()
    if user is None or Visitor.objects.filter(user=user).exists():
        return None
    return user


def visitor_get(pk: int) -> Visitor | None:
    """The visitor (followed to the visitor it was merged into) with its member and profile."""
    visitor = Visitor.objects.select_related("user__profile").filter(pk=pk).first()
    if visitor is not None and visitor.merged_into_id:
        visitor = Visitor.objects.select_related("user__profile").get(pk=visitor.merged_into_id)
    return visitor


def _clause(clause: Any, attributes: dict, groups: dict, unknowable: frozenset[str]) -> Clause:
    sentence = condition_sentence(clause)
    if condition_keys(clause) & unknowable:
        return Clause(sentence, UNKNOWN)
    return Clause(sentence, YES if evaluate(clause, attributes, groups) else NO)


def _combined(combinator: str, states: list[str]) -> str:
    """Three-valued logic: a rule that is not known decides only when nothing else does."""
    if combinator == "$or":
        if YES in states:
            return YES
        return UNKNOWN if UNKNOWN in states else NO
    if combinator == "$nor":
        if YES in states:
            return NO
        return UNKNOWN if UNKNOWN in states else YES
    if NO in states:
        return NO
    return UNKNOWN if UNKNOWN in states else YES


def segment_decide(segment: Segment, attributes: dict, groups: dict) -> SegmentDecision:
    """A segment's decision for these attributes, rule by rule."""
    unknowable = request_keys() - set(attributes)
    combinator, parts = top_level_clauses(segment.condition or {})
    clauses = [_clause(part, attributes, groups, unknowable) for part in parts]
    state = _combined(combinator, [c.state for c in clauses]) if clauses else NO
    return SegmentDecision(segment.pk, segment.name, segment.priority, state, combinator, clauses)


def segments_decide(attributes: dict) -> list[SegmentDecision]:
    """Every enabled segment decided for these attributes, highest priority first."""
    groups = dict(SavedGroup.objects.values_list("key", "values"))
    segments = Segment.objects.filter(enabled=True).order_by("-priority", "pk")
    return [segment_decide(s, attributes, groups) for s in segments]
