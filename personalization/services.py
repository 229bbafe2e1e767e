"""Writes about members, visitors and events. Views and jobs call these; they hold no HTTP."""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from personalization.consent import request_allows_event
from personalization.context import build_context
from personalization.ingest import publish, store, with_idempotency_key
from personalization.models import ErasedVisitor, Event, EventType, MemberProfile, Visitor
from personalization.signals import visitors_merged

logger = logging.getLogger(__name__)

User = get_user_model()


class MemberAlreadyExists(ValueError):
    """Someone already signed up with this email address."""


class VisitorBelongsToMember(PermissionError):
    """A write named a visitor kept by a member without being that member (callers write to
    `personalization.middleware.writable_visitor`, so this only guards the invariant)."""


@transaction.atomic
def member_create(*, email: str, name: str, password: str) -> AbstractBaseUser:
    """Create a member account (username = normalised email) with an empty profile."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(username__iexact=email).exists():
        raise MemberAlreadyExists(email)
    user = User.objects.create_user(
        username=email, email=email, password=password, first_name=name.strip()
    )
    MemberProfile.objects.create(user=user)
    return user


def member_profile(*, user: AbstractBaseUser) -> MemberProfile:
    """The member's profile, created on first access for accounts made before profiles."""
    profile, _ = MemberProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def member_profile_update(
    *,
    user: AbstractBaseUser,
    name: str,
    birth_date: datetime.date | None,
    gender: str,
    region: str,
    occupation: str,
    pet_type: str,
) -> MemberProfile:
    """Save what a member declares about themselves (the tier is set by staff, not here)."""
    user.first_name = name.strip()
    user.save(update_fields=["first_name"])
    profile = member_profile(user=user)
    profile.birth_date = birth_date
    profile.gender = gender
    profile.region = region
    profile.occupation = occupation
    profile.pet_type = pet_type
    profile.full_clean(exclude=["user"])
    profile.save()
    return profile


# VISITORS AND EVENTS
# ------------------------------------------------------------------------------


def event_payload(
    *,
    visitor_uuid,
    type: str,
    user_id: int | None = None,
    name: str = "",
    page_id: int | None = None,
    section: str | None = None,
    properties: dict | None = None,
    occurred_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    anonymous: bool = False,
) -> dict:
    """The plain, queue-safe description of one event. `anonymous`: sent by someone not logged
    in (a browser or a visitor token), so it may not join a member's history even when it names
    a member's visitor; events from our own server code or the shop's server leave it False."""
    return {
        "visitor": str(visitor_uuid),
        "user_id": user_id,
        "anonymous": anonymous,
        "type": type,
        "name": name,
        "page_id": page_id,
        "section": section,
        "properties": properties or {},
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "idempotency_key": idempotency_key,
    }


def events_track(payloads: list[dict]) -> None:
    """Hand events to the pipeline once the current transaction commits, in microseconds: one
    Redis call (see `personalization.ingest`). Without Redis the process's writer thread stores
    them after the response; if Redis does not answer they are stored synchronously. Each event
    gets an idempotency key here (the client's, else a new one), so however often it is
    delivered it is stored once."""
    if not payloads:
        return
    prepared = [with_idempotency_key(payload) for payload in payloads]
    transaction.on_commit(lambda: publish(prepared))


def page_view_track(*, request, page) -> None:
    """Record a page view without slowing the page (not when analytics consent is withheld)."""
    if not request_allows_event(request, EventType.PAGE_VIEW):
        return
    user = request.user if request.user.is_authenticated else None
    parts = [p for p in page.url_path.split("/") if p]
    section = parts[1] if len(parts) >= 2 else None
    events_track(
        [
            event_payload(
                visitor_uuid=request.visitor_uuid,
                user_id=user.pk if user else None,
                anonymous=user is None,
                type=EventType.PAGE_VIEW,
                page_id=page.pk,
                section=section,
            )
        ]
    )


def events_ingest(*, payloads: list[dict]) -> int:
    """Store each event once (idempotency keys), fold it into its visitor's rollups and send
    `event_stored` for it; returns how many were newly stored. Bulk writes, one transaction per
    batch (see `personalization.ingest.store`)."""
    return store(payloads)


def events_purge(*, before: datetime.datetime, chunk: int = 10_000) -> int:
    """Delete raw events that happened before `before`, oldest first in chunks of `chunk`, so
    no transaction grows large. Rollups, experiment conversions and journey records keep no
    reference to raw events and stay. Returns how many were deleted."""
    deleted = 0
    while True:
        ids = list(
            Event.objects.filter(occurred_at__lt=before)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return deleted
        deleted += Event.objects.filter(pk__in=ids).delete()[0]


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
    Event.objects.filter(visitor=source).update(visitor=target)
    target.traits = {**(source.traits or {}), **(target.traits or {})}
    target.visit_count += source.visit_count
    target.page_view_count += source.page_view_count
    target.section_views = _merge_counters(target.section_views, source.section_views)
    target.tag_views = _merge_counters(target.tag_views, source.tag_views)
    target.purchase_count += source.purchase_count
    target.total_spend += source.total_spend
    for category, day in (source.categories_bought or {}).items():
        target.categories_bought[category] = max(target.categories_bought.get(category, day), day)
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


@transaction.atomic
def visitor_erase(*, visitor: Visitor) -> int:
    """Forget a visitor: its row (traits, rollups, cart, offer counts), its events and every row
    of other apps that refers to it (experiment assignments, exposures, conversions cascade),
    and the anonymous visitors once merged into it. Aggregates without a visitor stay.

    Every erased id is recorded (`ErasedVisitor`), so visitor tokens naming it are refused from
    now on and nothing new is filed under it. Returns how many visitor rows were deleted. The
    member account itself is not touched."""
    merged_ids = Visitor.objects.filter(merged_into_id=visitor.pk) if visitor.pk else None
    erased = [visitor.uuid, *(merged_ids.values_list("uuid", flat=True) if merged_ids else [])]
    ErasedVisitor.objects.bulk_create(
        [ErasedVisitor(uuid=erased_uuid) for erased_uuid in erased], ignore_conflicts=True
    )
    if visitor.pk is None:
        return 0
    label = Visitor._meta.label
    _, merged = Visitor.objects.filter(merged_into_id=visitor.pk).delete()
    _, own = Visitor.objects.filter(pk=visitor.pk).delete()
    return merged.get(label, 0) + own.get(label, 0)


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
