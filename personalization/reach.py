"""The reach of a segment being edited: how many members and recent visitors its draft rules
match now, cheap enough to recount each time the editor changes a rule.

The cost is bounded: at most `SAMPLE` members and `SAMPLE` recent anonymous visitors are
evaluated (the draft condition compiled once with the condition compiler, each person's
attribute context built as `segment_size_compute` builds it). A group no larger than that is
counted exactly; a larger one is counted on a random sample of `SAMPLE` and scaled, and the
estimate says so. The saved size ("Size and recount") still counts everyone, in a job.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from personalization.attributes import attribute_for
from personalization.conditions import compile_condition
from personalization.context import build_context
from personalization.models import SavedGroup, Visitor
from personalization.services import RECENT_VISITOR_DAYS

logger = logging.getLogger(__name__)

SAMPLE = 1000  # people evaluated per group (members, recent anonymous visitors) at most
REQUEST_GROUP = "Request"  # attributes known only while a page is being served


@dataclass(frozen=True)
class Reach:
    """Matching members and recent anonymous visitors, and how sure the numbers are."""

    members: int
    visitors: int
    members_total: int
    visitors_total: int
    evaluated: int
    exact: bool

    @property
    def total(self) -> int:
        return self.members + self.visitors


def _count(test, people: list[tuple[Any, Any]], now: datetime.datetime) -> int:
    """How many of (visitor, user) pairs pass `test`; a row whose context cannot be built is
    logged and not counted, as in `segment_size_compute`."""
    matched = 0
    for visitor, user in people:
        try:
            matched += int(test(build_context(None, visitor, user, now)))
        except Exception:  # any stored value: one bad row never costs the estimate
            logger.exception("Reach estimate skipped visitor %s / member %s", visitor, user)
    return matched


def _scaled(matched: int, evaluated: int, total: int) -> int:
    if evaluated == 0 or evaluated >= total:
        return matched
    return round(matched * total / evaluated)


def _sample(queryset, total: int):
    """Everyone when the group fits the bound, else a random `SAMPLE` of it."""
    return queryset[:SAMPLE] if total <= SAMPLE else queryset.order_by("?")[:SAMPLE]


def _members(now: datetime.datetime) -> tuple[list[tuple[Any, Any]], int]:
    users = get_user_model().objects.select_related("profile").order_by("pk")
    total = users.count()
    sample = list(_sample(users, total))
    visitors = {
        v.user_id: v
        for v in Visitor.objects.filter(
            user__in=[u.pk for u in sample], merged_into__isnull=True
        ).order_by("pk")
    }
    return [(visitors.get(user.pk), user) for user in sample], total


def _anonymous_visitors(now: datetime.datetime) -> tuple[list[tuple[Any, Any]], int]:
    since = now - datetime.timedelta(days=RECENT_VISITOR_DAYS)
    visitors = Visitor.objects.filter(
        user__isnull=True, merged_into__isnull=True, last_seen_at__gte=since
    ).order_by("pk")
    total = visitors.count()
    return [(visitor, None) for visitor in _sample(visitors, total)], total


def reach_estimate(*, condition: dict[str, Any], now: datetime.datetime | None = None) -> Reach:
    """Members and recent visitors (seen in the last 30 days) `condition` matches now,
    evaluating at most 2 × SAMPLE people (see the module's docstring)."""
    now = now or timezone.now()
    test = compile_condition(condition, dict(SavedGroup.objects.values_list("key", "values")))
    members, members_total = _members(now)
    visitors, visitors_total = _anonymous_visitors(now)
    return Reach(
        members=_scaled(_count(test, members, now), len(members), members_total),
        visitors=_scaled(_count(test, visitors, now), len(visitors), visitors_total),
        members_total=members_total,
        visitors_total=visitors_total,
        evaluated=len(members) + len(visitors),
        exact=len(members) == members_total and len(visitors) == visitors_total,
    )


def condition_keys(condition: Any) -> list[str]:
    """The attribute keys a condition tests, in order, each once."""
    keys: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in {"$and", "$or", "$nor", "$not"}:
                    walk(value)
                elif not key.startswith("$") and key not in keys:
                    keys.append(key)

    walk(condition)
    return keys


def request_only_labels(condition: Any) -> list[str]:
    """Labels of the attributes in `condition` known only during a visit (device, UTM, …):
    rules on them count nobody outside a request."""
    labels = []
    for key in condition_keys(condition):
        attribute = attribute_for(key)
        if attribute is not None and attribute.group == REQUEST_GROUP:
            labels.append(str(attribute.label))
    return labels
