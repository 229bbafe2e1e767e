"""What a visitor agreed to: analytics, personalization, marketing.

The record lives in the database (`Consent`, by member or by visitor id) and, for the request
path, in a signed cookie, so serving a page never queries to know the choice:

- `ConsentMiddleware` reads the cookie and sets `request.consent` (the three choices),
  `request.consent_recorded` (whether the visitor has chosen; the banner shows until then) and
  `request.personalization_consent` (the resolver gives default content when it is False).
- Without a choice the `CONSENT_DEFAULTS` setting applies (analytics and personalization on,
  marketing off: marketing is opt-in).
- With analytics withheld, only strictly necessary events are stored (`NECESSARY_EVENT_TYPES`:
  what the shop needs to work — purchases, checkout, sign-up, cart changes); the event pipeline
  enforces it from the database records, the site path from the cookie.
- A member's choice follows them: on log-in their record is written into the cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext

from config import version_tokens
from personalization.models import Consent, Visitor

CONSENT_COOKIE = "pv_consent"
CONSENT_SALT = "personalization.consent"
CONSENT_COOKIE_AGE = 60 * 60 * 24 * 365
PURPOSES = ("analytics", "personalization", "marketing")


class ConsentBelongsToMember(PermissionError):
    """An anonymous caller tried to change the consent of a visitor now kept by a member."""


def consent_defaults() -> dict[str, bool]:
    """The choices assumed until a visitor makes one."""
    return {p: bool(settings.CONSENT_DEFAULTS.get(p, False)) for p in PURPOSES}


# SERVICES
# ------------------------------------------------------------------------------


def _member(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _record_for(*, visitor_uuid, user) -> Consent | None:
    """The member's record, else this browser's (unless it belongs to another member)."""
    member = _member(user)
    if member is not None:
        found = Consent.objects.filter(user=member).first()
        if found is not None:
            return found
    if visitor_uuid is None:
        return None
    found = Consent.objects.filter(visitor_uuid=visitor_uuid).first()
    if found is not None and found.user_id and (member is None or found.user_id != member.pk):
        return None
    return found


def consent_for(*, visitor_uuid, user) -> dict[str, bool]:
    """The visitor's (or member's) choices, or the defaults when they have not chosen.

    Read on every API request of a visitor, so kept in the cache per (member, visitor) under
    the consent version, which every stored change renews: a cached page document from the
    render cache then costs no consent query."""
    member = _member(user)
    who = f"{member.pk if member else '-'}:{visitor_uuid}"
    key = f"personalization:consent:{_consent_version()}:{who}"
    cached = cache.get(key)
    if isinstance(cached, dict):
        return dict(cached)
    record = _record_for(visitor_uuid=visitor_uuid, user=user)
    choices = record.choices if record is not None else consent_defaults()
    cache.set(key, choices, CONSENT_CACHE_SECONDS)
    return choices


CONSENT_CACHE_SECONDS = 3600


def _consents_state() -> str:
    """The token derived from the consent records (when the cache has none)."""
    stats = Consent.objects.aggregate(changed=Max("updated_at"), count=Count("id"))
    changed = stats["changed"].isoformat() if stats["changed"] else "-"
    return f"{stats['count']}.{changed}"


# Changes whenever a consent record is saved or deleted (here, or — with a per-process cache —
# in another process, noticed within a few seconds through the table's state). Read once per
# request (`config.version_tokens`).
_consent_version = version_tokens.VersionToken("personalization:consent-version", _consents_state)
CONSENT_VERSION_KEY = _consent_version.key


@receiver([post_save, post_delete], sender=Consent)
def consent_changed(sender, **kwargs) -> None:
    """Every cached choice is stale: now, and again once the change is committed."""
    _consent_version.bump()
    transaction.on_commit(_consent_version.bump)


def _state(record: Consent | None) -> dict:
    if record is None:
        return {**consent_defaults(), "recorded": False, "unsubscribed": False}
    return {**record.choices, "recorded": True, "unsubscribed": record.unsubscribed_at is not None}


def consent_state(*, visitor_uuid, user) -> dict:
    """The choices with whether they were made (`recorded`) and whether the visitor used an
    email's unsubscribe link (`unsubscribed`): what the consent API shows."""
    return _state(_record_for(visitor_uuid=visitor_uuid, user=user))


def consent_update(*, visitor_uuid, user, **choices: bool) -> dict[str, bool]:
    """Store new choices (any of analytics, personalization, marketing); returns all three.

    A member's record is kept against their account; an anonymous visitor's against their id
    (and it becomes the member's when they log in)."""
    return _record_save(visitor_uuid=visitor_uuid, user=user, **choices).choices


def consent_change(*, visitor_uuid, user, **choices: bool) -> dict:
    """`consent_update`, returning the new `consent_state`."""
    return _state(_record_save(visitor_uuid=visitor_uuid, user=user, **choices))


def _kept_by_another(*, visitor_uuid, member) -> bool:
    """Whether a new record may not be filed under `visitor_uuid`: another record has it, or
    it names a visitor kept by a member other than `member` (callers pass `writable_visitor`'s
    id, so this only guards the invariant)."""
    if visitor_uuid is None:
        return False
    if Consent.objects.filter(visitor_uuid=visitor_uuid).exists():
        return True
    owners = Visitor.objects.filter(uuid=visitor_uuid, user__isnull=False)
    return (owners.exclude(user=member) if member is not None else owners).exists()


@transaction.atomic
def _record_save(*, visitor_uuid, user, **choices: bool) -> Consent:
    unknown = set(choices) - set(PURPOSES)
    if unknown:
        raise ValueError(f"Unknown consent purposes: {sorted(unknown)}")
    record = _record_for(visitor_uuid=visitor_uuid, user=user)
    member = _member(user)
    if record is None:
        taken = _kept_by_another(visitor_uuid=visitor_uuid, member=member)
        if member is None and (taken or visitor_uuid is None):
            raise ConsentBelongsToMember(
                gettext("This visitor's consent belongs to a member: log in to change it.")
            )
        record = Consent(**consent_defaults())
        record.visitor_uuid = None if taken or visitor_uuid is None else visitor_uuid
    if member is not None and record.user_id is None:
        record.user = member
    for purpose, value in choices.items():
        setattr(record, purpose, bool(value))
    if choices.get("marketing"):
        record.unsubscribed_at = None
    record.save()
    return record


def consent_unsubscribe(*, visitor_uuid, user_id: int | None) -> None:
    """Withdraw marketing consent for good (the email's unsubscribe link)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with transaction.atomic():
        record = _record_for(visitor_uuid=visitor_uuid, user=user)
        if record is None and visitor_uuid is not None:
            # The signed link speaks for the visitor it was sent to, even when a member now
            # keeps their record.
            record = Consent.objects.filter(visitor_uuid=visitor_uuid).first()
        if record is None:
            record = _record_save(visitor_uuid=visitor_uuid, user=user, marketing=False)
        record.marketing = False
        record.unsubscribed_at = timezone.now()
        record.save(update_fields=["marketing", "unsubscribed_at", "updated_at"])


def consents_for_visitors(visitors) -> dict[int, dict[str, bool]]:
    """Choices of each visitor (by visitor id), the member's record first; one query."""
    visitors = list(visitors)
    uuids = [v.uuid for v in visitors]
    user_ids = [v.user_id for v in visitors if v.user_id]
    records = Consent.objects.filter(Q(visitor_uuid__in=uuids) | Q(user_id__in=user_ids))
    by_uuid, by_user = {}, {}
    for record in records:
        if record.user_id:
            by_user[record.user_id] = record
        if record.visitor_uuid:
            by_uuid[record.visitor_uuid] = record
    defaults = consent_defaults()
    result = {}
    for visitor in visitors:
        record = by_user.get(visitor.user_id) or by_uuid.get(visitor.uuid)
        result[visitor.pk] = (
            {**record.choices, "unsubscribed": bool(record.unsubscribed_at)}
            if (record is not None)
            else {**defaults, "unsubscribed": False}
        )
    return result


# THE REQUEST PATH
# ------------------------------------------------------------------------------


def _encode(choices: dict[str, bool]) -> str:
    return "".join(f"{p[0]}{int(bool(choices.get(p)))}" for p in PURPOSES)


def _decode(value: str) -> dict[str, bool] | None:
    if len(value) != 2 * len(PURPOSES):
        return None
    parts = {value[i]: value[i + 1] for i in range(0, len(value), 2)}
    if any(p[0] not in parts or parts[p[0]] not in "01" for p in PURPOSES):
        return None
    return {p: parts[p[0]] == "1" for p in PURPOSES}


def read_consent_cookie(request) -> dict[str, bool] | None:
    """The choices in the signed consent cookie, or None when absent or tampered with."""
    try:
        value = request.get_signed_cookie(
            CONSENT_COOKIE, default=None, salt=CONSENT_SALT, max_age=CONSENT_COOKIE_AGE
        )
    except signing.BadSignature:
        return None
    return _decode(value) if value else None


def remember_consent(request, choices: dict[str, bool]) -> None:
    """Make this request (and, via the middleware, the browser's cookie) carry `choices`."""
    request.consent = dict(choices)
    request.consent_recorded = True
    request.personalization_consent = choices["personalization"]
    request._consent_cookie = _encode(choices)
    request.__dict__.pop("_personalization_resolution", None)


class ConsentMiddleware:
    """Attach the visitor's consent from the signed cookie (no query) and write it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stored = read_consent_cookie(request)
        request.consent = stored or consent_defaults()
        request.consent_recorded = stored is not None
        request.personalization_consent = request.consent["personalization"]
        response = self.get_response(request)
        value = getattr(request, "_consent_cookie", None)
        if value is not None:
            response.set_signed_cookie(
                CONSENT_COOKIE,
                value,
                salt=CONSENT_SALT,
                max_age=CONSENT_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


@receiver(user_logged_in)
def consent_follows_member(sender, request, user, **kwargs) -> None:
    """On log-in the member's stored choice (if any) replaces this browser's; an anonymous
    choice made on this browser becomes the member's when they have none."""
    if request is None or not hasattr(request, "consent"):
        return
    record = Consent.objects.filter(user=user).first()
    if record is not None:
        remember_consent(request, record.choices)
    elif request.consent_recorded:
        consent_update(visitor_uuid=None, user=user, **request.consent)
