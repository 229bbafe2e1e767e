"""Writes about visitors and segments. Views and jobs call these; they hold no HTTP."""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from personalization.commerce.recent import recent_products_merge
from personalization.context import build_context
from personalization.models import Visitor
from personalization.signals import visitors_merged

logger = logging.getLogger(__name__)

User = get_user_model()


class VisitorBelongsToMember(PermissionError):
    """A write named a visitor kept by a member without being that member (callers write to
    `personalization.middleware.writable_visitor`, so this only guards the invariant)."""


# VISITORS
# ------------------------------------------------------------------------------


@transaction.atomic
def visitor_declare_traits(*, visitor_uuid, user, name: str, pet: str) -> Visitor:
    """Store what a visitor told us (name, pet) so the very next page can use it."""
    visitor = None
    if user is not None and user.is_authenticated:
        visitor = Visitor.objects.filter(user=user).first()
    if visitor is None:
        visitor, _ = Visitor.objects.get_or_create(uuid=visitor_uuid)
        member_id = user.pk if user is not None and user.is_authenticated else None
        if visitor.user_id is not None and visitor.user_id != member_id:
            raise VisitorBelongsToMember(visitor_uuid)
        if member_id is not None and visitor.user_id is None:
            visitor.user = user
    traits = dict(visitor.traits or {})
    traits.update({"name": name.strip(), "pet": pet})
    visitor.traits = {k: v for k, v in traits.items() if v}
    visitor.save()
    return visitor


def _merge_counters(target: dict, source: dict) -> dict:
    merged = dict(target)
    for key, value in source.items():
        merged[key] = int(merged.get(key, 0)) + int(value)
    return merged


@transaction.atomic
def visitors_merge(*, source: Visitor, target: Visitor) -> Visitor:
    """Fold an anonymous visitor into a member's: history, traits and rollups are kept."""
    if source.pk == target.pk:
        return target
    target.traits = {**(source.traits or {}), **(target.traits or {})}
    target.visit_count += source.visit_count
    target.page_view_count += source.page_view_count
    target.section_views = _merge_counters(target.section_views, source.section_views)
    target.tag_views = _merge_counters(target.tag_views, source.tag_views)
    target.purchase_count += source.purchase_count
    target.total_spend += source.total_spend
    for category, day in (source.categories_bought or {}).items():
        target.categories_bought[category] = max(target.categories_bought.get(category, day), day)
    target.products_viewed = recent_products_merge(target.products_viewed, source.products_viewed)
    target.products_bought = recent_products_merge(target.products_bought, source.products_bought)
    if source.cart.get("items") and not target.cart.get("items"):
        target.cart = source.cart
    target.first_purchase_at = _earliest(target.first_purchase_at, source.first_purchase_at)
    target.last_purchase_at = _latest(target.last_purchase_at, source.last_purchase_at)
    target.last_seen_at = _latest(target.last_seen_at, source.last_seen_at)
    target.created_at = min(target.created_at, source.created_at)
    target.save()
    visitors_merged.send(sender=Visitor, source=source, target=target)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    return target


def _earliest(a, b):
    return min(x for x in (a, b) if x) if (a or b) else None


def _latest(a, b):
    return max(x for x in (a, b) if x) if (a or b) else None


@transaction.atomic
def visitor_log_in(*, user, anonymous_uuid) -> Visitor:
    """On log-in or sign-up: the browser's anonymous visitor becomes (or joins) the member's."""
    member_visitor = Visitor.objects.filter(user=user).first()
    anonymous = Visitor.objects.filter(uuid=anonymous_uuid, user__isnull=True).first()
    if member_visitor is None:
        if anonymous is not None:
            anonymous.user = user
            anonymous.save(update_fields=["user"])
            return anonymous
        return Visitor.objects.create(uuid=anonymous_uuid, user=user)
    if anonymous is not None:
        visitors_merge(source=anonymous, target=member_visitor)
    return member_visitor


# SEGMENTS
# ------------------------------------------------------------------------------

RECENT_VISITOR_DAYS = 30


def _in_segment(test, visitor, user, now: datetime.datetime, skipped: list[str]) -> bool:
    """Whether this visitor (or lone member) is in the segment; a row whose attribute context
    cannot be built is left out and noted in `skipped`, so it never fails the whole count."""
    try:
        return test(build_context(None, visitor, user, now))
    except Exception as exc:  # any stored value: one bad row never costs the segment its size
        who = f"visitor {visitor.pk}" if visitor is not None else f"member {user.pk}"
        skipped.append(f"{who}: {exc!r}")
        return False


def segment_size_compute(*, segment_id: int) -> int | None:
    """Count members and recent visitors (seen in 30 days) who are in the segment now.

    Request-only keys (device, UTM, time) are unknown here, so rules on them count nobody."""
    from personalization.conditions import ConditionError, compile_condition
    from personalization.models import SavedGroup, Segment

    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return None
    try:
        test = compile_condition(
            segment.condition, dict(SavedGroup.objects.values_list("key", "values"))
        )
    except ConditionError:
        return None
    now = timezone.now()
    since = now - datetime.timedelta(days=RECENT_VISITOR_DAYS)
    members = total = 0
    visitors = (
        Visitor.objects.filter(merged_into__isnull=True)
        .filter(models.Q(user__isnull=False) | models.Q(last_seen_at__gte=since))
        .select_related("user__profile")
    )
    seen_users = set()
    skipped: list[str] = []
    for visitor in visitors.iterator(chunk_size=2000):
        if _in_segment(test, visitor, visitor.user, now, skipped):
            total += 1
            members += int(visitor.user_id is not None)
        if visitor.user_id:
            seen_users.add(visitor.user_id)
    lone_members = User.objects.exclude(pk__in=seen_users).select_related("profile")
    for user in lone_members.iterator(chunk_size=2000):
        if _in_segment(test, None, user, now, skipped):
            total += 1
            members += 1
    if skipped:
        logger.error(
            "Segment %s counted without %d row(s) whose attributes could not be built: %s",
            segment.slug,
            len(skipped),
            "; ".join(skipped[:5]),
        )
    Segment.objects.filter(pk=segment_id).update(
        size=total, size_members=members, size_computed_at=now
    )
    return total
