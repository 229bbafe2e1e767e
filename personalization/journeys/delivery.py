"""What a journey step does: caps and quiet hours, then an email, an on-site message or a
signed webhook (delivered by a job that retries with backoff, then records the failure)."""

from __future__ import annotations

import datetime
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation

from config.jobs import enqueue
from personalization.consent import consents_for_visitors
from personalization.journeys.catalogue import products_variable
from personalization.journeys.messaging import (
    WebhookFailed,
    email_render,
    email_send,
    render,
    webhook_post,
)
from personalization.journeys.models import (
    JourneyEntry,
    JourneyMessage,
    JourneyStep,
    MessageStatus,
    MessagingSettings,
    StepAction,
)
from personalization.journeys.onsite import flag_message_waiting
from personalization.models import Visitor
from personalization.privacy.unsubscribe import absolute_url, unsubscribe_url

logger = logging.getLogger(__name__)


# QUIET HOURS AND CAPS
# ------------------------------------------------------------------------------


def _site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def quiet_hours_end(now: datetime.datetime, config: MessagingSettings) -> datetime.datetime | None:
    """When the current quiet hours end (site time zone), or None outside quiet hours."""
    start, end = config.quiet_hours_start, config.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(_site_zone())
    moment = local.time()
    inside = start <= moment < end if start < end else (moment >= start or moment < end)
    if not inside:
        return None
    end_day = local.date() if moment < end else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(end_day, end, tzinfo=_site_zone())


def cap_reached(visitor: Visitor, now: datetime.datetime, config: MessagingSettings) -> str:
    """ "day" or "week" when the visitor already had their messages for it, else ""."""
    local = now.astimezone(_site_zone())
    day_start = datetime.datetime.combine(local.date(), datetime.time(), tzinfo=_site_zone())
    week_start = day_start - datetime.timedelta(days=local.weekday())
    counts = JourneyMessage.objects.filter(
        visitor=visitor,
        status__in=[MessageStatus.SENT, MessageStatus.PENDING],
        created_at__gte=week_start,
    ).aggregate(
        day=Count("pk", filter=Q(created_at__gte=day_start)),
        week=Count("pk"),
    )
    if config.max_per_day and counts["day"] >= config.max_per_day:
        return "day"
    if config.max_per_week and counts["week"] >= config.max_per_week:
        return "week"
    return ""


# ACTIONS
# ------------------------------------------------------------------------------


def member_language(visitor: Visitor) -> str:
    """The language a member last used the site in (their profile), else the site's default."""
    user = visitor.user if visitor.user_id else None
    profile = getattr(user, "profile", None) if user is not None else None
    language = getattr(profile, "language", "") or ""
    return language or settings.LANGUAGE_CODE


def message_variables(
    visitor: Visitor, entry: JourneyEntry, step: JourneyStep | None = None
) -> dict[str, Any]:
    """What an editor's template may print about the visitor (and, for the catalogue triggers,
    the products that fired, linked through this step's tracked links)."""
    user = visitor.user if visitor.user_id else None
    traits = visitor.traits or {}
    items = [
        {"sku": sku, **details}
        for sku, details in ((visitor.cart or {}).get("items") or {}).items()
    ]
    return {
        "name": traits.get("name") or (user.first_name if user else ""),
        "email": user.email if user else "",
        "cart": {
            "items": items,
            "count": sum(int(i.get("quantity", 1)) for i in items),
            "value": sum(float(i.get("price", 0)) * int(i.get("quantity", 1)) for i in items),
        },
        "purchases": {
            "count": visitor.purchase_count,
            "total_spend": visitor.total_spend,
            "last": visitor.last_purchase_at,
        },
        "event": entry.trigger_context,
        "products": products_variable(entry, step.pk if step is not None else None),
        "journey": entry.journey.name,
        "site_name": settings.WAGTAIL_SITE_NAME,
        "site_url": absolute_url("/"),
        "unsubscribe_url": unsubscribe_url(visitor_uuid=visitor.uuid, user_id=visitor.user_id),
    }


def act(
    entry: JourneyEntry,
    step: JourneyStep,
    visitor: Visitor,
    *,
    now: datetime.datetime,
    config: MessagingSettings,
) -> JourneyMessage:
    message = JourneyMessage(
        entry=entry,
        journey_id=entry.journey_id,
        step=step,
        visitor=visitor,
        channel=step.action,
        created_at=now,
    )
    choices = consents_for_visitors([visitor])[visitor.pk]
    if not choices["marketing"] or choices["unsubscribed"]:
        return _record(message, MessageStatus.SUPPRESSED_CONSENT, "no marketing consent")
    cap = cap_reached(visitor, now, config)
    if cap:
        return _record(message, MessageStatus.SUPPRESSED_CAP, f"{cap} cap reached")
    if step.action == StepAction.EMAIL:
        # In the member's language: the unsubscribe line and link (/ja/… for Japanese).
        with translation.override(member_language(visitor)):
            variables = message_variables(visitor, entry, step)
            return _email(message, step, visitor, variables, now)
    variables = message_variables(visitor, entry, step)
    if step.action == StepAction.ON_SITE:
        return _on_site(message, step, visitor, variables, now)
    return _webhook(message, step, visitor, now)


def _record(message: JourneyMessage, status: str, detail: str = "") -> JourneyMessage:
    message.status, message.detail = status, detail[:300]
    message.save()
    return message


def _email(message, step, visitor, variables, now) -> JourneyMessage:
    recipient = visitor.user.email if visitor.user_id and visitor.user.email else ""
    if not recipient:
        return _record(message, MessageStatus.SKIPPED, "no email address")
    message.recipient = recipient
    try:
        email = email_render(step.email_template, variables)
        message.subject = email.subject
        email_send(recipient=recipient, email=email, unsubscribe_link=variables["unsubscribe_url"])
    except Exception as exc:  # a template or mail-server error is recorded, never retried blindly
        logger.exception("Journey email to visitor %s failed", visitor.pk)
        return _record(message, MessageStatus.FAILED, f"{type(exc).__name__}: {exc}")
    message.sent_at = now
    return _record(message, MessageStatus.SENT)


def _on_site(message, step, visitor, variables, now) -> JourneyMessage:
    try:
        message.subject = render(step.message_title, variables, html=False)[:300]
        message.body = render(step.message_text, variables, html=False)
    except Exception as exc:
        logger.exception("Journey on-site message for visitor %s failed", visitor.pk)
        return _record(message, MessageStatus.FAILED, f"{type(exc).__name__}: {exc}")
    message.link, message.sent_at = step.message_link, now
    _record(message, MessageStatus.SENT)
    flag_message_waiting(visitor)
    return message


def _webhook(message, step, visitor, now) -> JourneyMessage:
    import json

    entry = message.entry
    message.recipient = step.webhook_url[:254]
    message.body = json.dumps(
        {
            "journey": entry.journey.name,
            "step": step.pk,
            "visitor": str(visitor.uuid),
            "member_email": visitor.user.email if visitor.user_id else None,
            "triggered_at": entry.triggered_at.isoformat(),
            "event": entry.trigger_context,
        },
        default=str,
    )
    message.next_attempt_at = now + _lease()
    _record(message, MessageStatus.PENDING)
    _deliver_later(message.pk)
    return message


# WEBHOOK DELIVERY (a job; retried with backoff, then recorded as failed)
# ------------------------------------------------------------------------------


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOURNEY_WEBHOOK_TIMEOUT * 2 + 60)


def _deliver_later(message_id: int) -> None:
    # By path: the jobs module imports this one.
    enqueue("default", "personalization.journeys.jobs.deliver_webhook", message_id)


def webhooks_due(now: datetime.datetime) -> int:
    """Webhooks whose retry time has come go back to the queue."""
    due = list(
        JourneyMessage.objects.filter(
            status=MessageStatus.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    )
    JourneyMessage.objects.filter(pk__in=due).update(next_attempt_at=now + _lease())
    for message_id in due:
        _deliver_later(message_id)
    return len(due)


def webhook_deliver(*, message_id: int, now: datetime.datetime | None = None) -> str:
    """One delivery attempt: SENT on a 2xx answer; on a timeout or error, PENDING again after
    the next backoff interval, or FAILED once JOURNEY_WEBHOOK_BACKOFF is used up."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            JourneyMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("step")
            .filter(pk=message_id, status=MessageStatus.PENDING)
            .first()
        )
        if message is None or message.step is None:
            return "gone"
        message.attempts += 1
        message.save(update_fields=["attempts"])
    try:
        webhook_post(
            url=message.step.webhook_url,
            secret=message.step.webhook_secret,
            payload={**_loads(message.body), "attempt": message.attempts},
            timeout=settings.JOURNEY_WEBHOOK_TIMEOUT,
        )
    except WebhookFailed as exc:
        return _webhook_failed(message, str(exc), now)
    message.status, message.sent_at, message.detail = MessageStatus.SENT, now, ""
    message.next_attempt_at = None
    message.save(update_fields=["status", "sent_at", "detail", "next_attempt_at"])
    return MessageStatus.SENT


def _loads(body: str) -> dict:
    import json

    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {}


def _webhook_failed(message: JourneyMessage, reason: str, now: datetime.datetime) -> str:
    backoff = settings.JOURNEY_WEBHOOK_BACKOFF
    message.detail = f"attempt {message.attempts}: {reason}"[:300]
    if message.attempts > len(backoff):
        logger.warning("Webhook message %s failed for good: %s", message.pk, reason)
        message.status, message.next_attempt_at = MessageStatus.FAILED, None
    else:
        delay = datetime.timedelta(seconds=backoff[message.attempts - 1])
        message.next_attempt_at = now + delay
        logger.info("Webhook message %s: %s; retrying in %s", message.pk, reason, delay)
    message.save(update_fields=["status", "detail", "next_attempt_at"])
    return message.status
