"""Journeys: triggered messages with frequency caps, consent and a report.

A visitor *enters* a journey (a `JourneyEntry`, made idempotent by its trigger key) when:
- an event happens (entered by the event pipeline, in the batch that stores the event);
- an event happens and the follow-up does not come within the window (entered when the event is
  stored, waiting until the window closes; a follow-up cancels it; a repeat of the trigger event
  while it waits restarts the window, so three cart additions make one reminder);
- a member has not visited for the window, or the window has passed since a first purchase
  (entered by the periodic evaluation, from the visitors' rollups).

`journeys_evaluate` (periodic, every minute) runs each entry's due step: the segment filter
(evaluated on the visitor's attributes now), quiet hours (the step waits until they end, in the
site's time zone), marketing consent and unsubscribe (suppressed, and the entry stops), the caps
across all journeys (max messages per visitor per local day and ISO week; suppressed, the entry
moves on), then the action: an email, an on-site message shown on the visitor's next page view,
or a signed webhook delivered by a job that retries with backoff and then records the failure.
Each step leaves one `JourneyMessage` (unique per entry and step) saying what happened, which is
what the report counts. Every function takes `now`, so tests drive the clock.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from personalization.consent import consent_defaults, consents_for_visitors
from personalization.messaging import (
    WebhookFailed,
    absolute_url,
    email_render,
    email_send,
    render,
    unsubscribe_url,
    webhook_post,
)
from personalization.models import (
    Consent,
    EntryStatus,
    Event,
    Journey,
    JourneyEntry,
    JourneyMessage,
    JourneyStatus,
    JourneyStep,
    MessageStatus,
    MessagingSettings,
    StepAction,
    TriggerKind,
    Visitor,
)

logger = logging.getLogger(__name__)

TIME_TRIGGER_LOOKBACK = datetime.timedelta(days=7)
EVALUATION_CHUNK = 500
ONSITE_FLAG = "personalization:onsite:{}"
ONSITE_MESSAGE_DAYS = 30
RETRY_LATER = datetime.timedelta(minutes=5)


# ENTERING FROM EVENTS (called by the event pipeline inside its transaction)
# ------------------------------------------------------------------------------


def journeys_on_events(*, events: list[Event]) -> None:
    """Enter, cancel and convert journey entries for a batch of newly stored events."""
    if not events:
        return
    types = {e.type for e in events}
    journeys = list(
        Journey.objects.filter(status=JourneyStatus.ACTIVE).filter(
            Q(trigger_event__in=types) | Q(follow_up_event__in=types) | Q(goal_event__in=types)
        )
    )
    if not journeys:
        return
    _enter_from_events(journeys, events)
    _cancel_followed_up(journeys, events)
    _convert(journeys, events)


def _triggers(journey: Journey, event: Event) -> bool:
    return (
        journey.trigger in (TriggerKind.EVENT, TriggerKind.EVENT_WITHOUT_FOLLOW_UP)
        and event.type == journey.trigger_event
        and (not journey.trigger_name or event.name == journey.trigger_name)
    )


def _entry_for(journey: Journey, event: Event) -> JourneyEntry:
    waits_until = event.occurred_at
    if journey.trigger == TriggerKind.EVENT_WITHOUT_FOLLOW_UP:
        waits_until += journey.window
    return JourneyEntry(
        journey=journey,
        visitor_id=event.visitor_id,
        trigger_key=f"event:{event.pk}",
        trigger_event_id=event.pk,
        trigger_context={"type": event.type, "name": event.name, **event.properties},
        triggered_at=event.occurred_at,
        step_base_at=waits_until,
        next_run_at=waits_until,
    )


def _enter_from_events(journeys: list[Journey], events: list[Event]) -> None:
    latest: dict[tuple[int, int], Event] = {}
    every: list[JourneyEntry] = []
    for journey in journeys:
        for event in events:
            if not _triggers(journey, event):
                continue
            if journey.trigger == TriggerKind.EVENT:
                every.append(_entry_for(journey, event))
                continue
            key = (journey.pk, event.visitor_id)
            if key not in latest or event.occurred_at > latest[key].occurred_at:
                latest[key] = event
    JourneyEntry.objects.bulk_create(every, ignore_conflicts=True)
    if latest:
        _enter_or_restart(journeys, latest)


def _enter_or_restart(journeys: list[Journey], latest: dict[tuple[int, int], Event]) -> None:
    """A trigger while an entry still waits for its window restarts the window."""
    by_id = {j.pk: j for j in journeys}
    waiting = JourneyEntry.objects.filter(
        journey_id__in={j for j, _ in latest},
        visitor_id__in={v for _, v in latest},
        status=EntryStatus.WAITING,
        next_step=0,
    )
    restarted = []
    for entry in waiting:
        event = latest.pop((entry.journey_id, entry.visitor_id), None)
        if event is None or event.occurred_at <= entry.triggered_at:
            continue
        fresh = _entry_for(by_id[entry.journey_id], event)
        entry.trigger_event_id, entry.trigger_context = event.pk, fresh.trigger_context
        entry.triggered_at, entry.step_base_at = fresh.triggered_at, fresh.step_base_at
        entry.next_run_at = fresh.next_run_at
        restarted.append(entry)
    fields = ["trigger_event_id", "trigger_context", "triggered_at", "step_base_at", "next_run_at"]
    JourneyEntry.objects.bulk_update(restarted, fields)
    JourneyEntry.objects.bulk_create(
        [_entry_for(by_id[j], event) for (j, _), event in latest.items()], ignore_conflicts=True
    )


def _cancel_followed_up(journeys: list[Journey], events: list[Event]) -> None:
    """A follow-up event (e.g. the purchase) cancels the entry's steps still to come: before the
    first message, or between messages (no reminder of a cart that was bought)."""
    for journey in journeys:
        if journey.trigger != TriggerKind.EVENT_WITHOUT_FOLLOW_UP:
            continue
        follow_ups = [e for e in events if e.type == journey.follow_up_event]
        if not follow_ups:
            continue
        latest: dict[int, datetime.datetime] = {}
        for event in follow_ups:
            latest[event.visitor_id] = max(
                latest.get(event.visitor_id, event.occurred_at), event.occurred_at
            )
        waiting = JourneyEntry.objects.filter(
            journey=journey, visitor_id__in=latest, status=EntryStatus.WAITING
        ).only("pk", "visitor_id", "triggered_at")
        cancelled = [e.pk for e in waiting if latest[e.visitor_id] >= e.triggered_at]
        if cancelled:
            JourneyEntry.objects.filter(pk__in=cancelled).update(
                status=EntryStatus.CANCELLED, next_run_at=None, ended_at=timezone.now()
            )


def _convert(journeys: list[Journey], events: list[Event]) -> None:
    """A goal reached within the attribution window after a message converts the entry."""
    by_type: dict[str, list[Journey]] = defaultdict(list)
    for journey in journeys:
        by_type[journey.goal_event].append(journey)
    goals = [e for e in events if e.type in by_type]
    if not goals:
        return
    entries = JourneyEntry.objects.filter(
        journey__in=[j for e in goals for j in by_type[e.type]],
        visitor_id__in={e.visitor_id for e in goals},
        first_messaged_at__isnull=False,
        converted_at__isnull=True,
    ).select_related("journey")
    converted = []
    for entry in entries:
        window = datetime.timedelta(days=entry.journey.attribution_days)
        reached = [
            e.occurred_at
            for e in goals
            if e.visitor_id == entry.visitor_id
            and e.type == entry.journey.goal_event
            and entry.first_messaged_at <= e.occurred_at <= entry.first_messaged_at + window
        ]
        if reached:
            entry.converted_at = min(reached)
            converted.append(entry)
    JourneyEntry.objects.bulk_update(converted, ["converted_at"])


# EVALUATING (the periodic job)
# ------------------------------------------------------------------------------


@dataclass
class Run:
    """What one evaluation loads once: steps per journey, settings, compiled segments."""

    now: datetime.datetime
    settings: MessagingSettings
    steps: dict[int, list[JourneyStep]] = field(default_factory=dict)
    segments: dict[int, Any] = field(default_factory=dict)

    def steps_of(self, journey_id: int) -> list[JourneyStep]:
        if journey_id not in self.steps:
            self.steps[journey_id] = list(
                JourneyStep.objects.filter(journey_id=journey_id)
                .select_related("email_template")
                .order_by("sort_order", "pk")
            )
        return self.steps[journey_id]

    def in_segment(self, segment, visitor: Visitor) -> bool:
        from personalization.conditions import ConditionError, compile_condition
        from personalization.context import build_context
        from personalization.models import SavedGroup

        if segment.pk not in self.segments:
            try:
                groups = dict(SavedGroup.objects.values_list("key", "values"))
                self.segments[segment.pk] = compile_condition(segment.condition, groups)
            except ConditionError:
                logger.error("Journey segment %s has a broken condition", segment.pk)
                self.segments[segment.pk] = lambda attributes: False
        user = visitor.user if visitor.user_id else None
        return bool(self.segments[segment.pk](build_context(None, visitor, user, self.now)))


def journeys_evaluate(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Enter time-triggered journeys, run every due step, and retry due webhooks."""
    run = Run(now=now or timezone.now(), settings=MessagingSettings.load())
    outcomes: Counter[str] = Counter()
    outcomes["entered"] = _enter_time_triggers(run)
    for _ in range(1000):  # bounded: each pass moves every entry it saw forward
        due = list(
            JourneyEntry.objects.filter(
                status=EntryStatus.WAITING,
                next_run_at__lte=run.now,
                journey__status=JourneyStatus.ACTIVE,
            )
            .order_by("next_run_at", "pk")
            .values_list("pk", flat=True)[:EVALUATION_CHUNK]
        )
        for entry_id in due:
            outcomes[_advance_safely(entry_id, run)] += 1
        if len(due) < EVALUATION_CHUNK:
            break
    outcomes["webhooks"] = _webhooks_due(run.now)
    return dict(outcomes)


def _enter_time_triggers(run: Run) -> int:
    entered = 0
    journeys = Journey.objects.filter(
        status=JourneyStatus.ACTIVE,
        trigger__in=[TriggerKind.NO_VISIT, TriggerKind.AFTER_FIRST_PURCHASE],
    )
    for journey in journeys:
        newest = run.now - journey.window
        if journey.trigger == TriggerKind.NO_VISIT:
            column, prefix = "last_seen_at", "no-visit"
            visitors = _members_whose_visits_count()
        else:
            column, prefix = "first_purchase_at", "first-purchase"
            visitors = Visitor.objects.all()
        rows = visitors.filter(
            merged_into__isnull=True,
            **{f"{column}__lte": newest, f"{column}__gt": newest - TIME_TRIGGER_LOOKBACK},
        ).values_list("pk", column)
        entries = [
            JourneyEntry(
                journey=journey,
                visitor_id=visitor_id,
                # The visitor is part of the key: entries are unique per journey and key, and
                # two members can have last visited (or first bought) in the same second.
                trigger_key=f"{prefix}:{visitor_id}:{moment:%Y%m%dT%H%M%S}",
                triggered_at=moment + journey.window,
                step_base_at=moment + journey.window,
                next_run_at=moment + journey.window,
            )
            for visitor_id, moment in rows.iterator(chunk_size=2000)
        ]
        before = JourneyEntry.objects.filter(journey=journey).count()
        JourneyEntry.objects.bulk_create(entries, batch_size=1000, ignore_conflicts=True)
        entered += JourneyEntry.objects.filter(journey=journey).count() - before
    return entered


def _members_whose_visits_count():
    """Members' visitors whose page views we store: a member who withheld analytics (or never
    chose, when analytics is opt-in) keeps visiting without it being recorded, so their old
    `last_seen_at` would make them look dormant and earn them a "we miss you" message."""
    members = Visitor.objects.filter(user__isnull=False)
    if consent_defaults()["analytics"]:
        withheld = Consent.objects.filter(user__isnull=False, analytics=False).values("user")
        return members.exclude(user__in=withheld)
    granted = Consent.objects.filter(user__isnull=False, analytics=True).values("user")
    return members.filter(user__in=granted)


def _advance_safely(entry_id: int, run: Run) -> str:
    try:
        return _advance(entry_id, run)
    except Exception:  # one broken entry must not stop the others; it is retried later
        logger.exception("Journey entry %s failed; retrying in a few minutes", entry_id)
        JourneyEntry.objects.filter(pk=entry_id).update(next_run_at=run.now + RETRY_LATER)
        return "error"


@transaction.atomic
def _advance(entry_id: int, run: Run) -> str:
    """Run the entry's next step if it is due (one transaction; the visitor row is locked so
    caps hold across concurrent evaluations)."""
    entry = (
        JourneyEntry.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("journey__segment")
        .filter(pk=entry_id, status=EntryStatus.WAITING, next_run_at__lte=run.now)
        .first()
    )
    if entry is None:
        return "busy"
    journey, steps = entry.journey, run.steps_of(entry.journey_id)
    if entry.next_step >= len(steps):
        return _finish(entry, EntryStatus.DONE, run.now)
    if _followed_up(entry):
        return _finish(entry, EntryStatus.CANCELLED, run.now)
    step = steps[entry.next_step]
    due = entry.step_base_at + step.delay
    if due > run.now:
        return _wait(entry, due)
    quiet_end = quiet_hours_end(run.now, run.settings)
    if quiet_end is not None:
        return _wait(entry, quiet_end, "deferred")
    visitor = (
        Visitor.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=entry.visitor_id)
    )
    if journey.segment is not None and not run.in_segment(journey.segment, visitor):
        return _finish(entry, EntryStatus.EXITED, run.now)
    message = _act(entry, step, visitor, run)
    if message.status == MessageStatus.SUPPRESSED_CONSENT:
        return _finish(entry, EntryStatus.SUPPRESSED, run.now, message.status)
    if (
        message.status in (MessageStatus.SENT, MessageStatus.PENDING)
        and not entry.first_messaged_at
    ):
        entry.first_messaged_at = run.now
    entry.next_step += 1
    entry.step_base_at = run.now
    if entry.next_step >= len(steps):
        entry.status, entry.next_run_at, entry.ended_at = EntryStatus.DONE, None, run.now
    else:
        entry.next_run_at = run.now + steps[entry.next_step].delay
    entry.save()
    return message.status


def _finish(entry: JourneyEntry, status: str, now: datetime.datetime, outcome: str = "") -> str:
    entry.status, entry.next_run_at, entry.ended_at = status, None, now
    entry.save(update_fields=["status", "next_run_at", "ended_at"])
    return outcome or status


def _wait(entry: JourneyEntry, until: datetime.datetime, outcome: str = "waiting") -> str:
    entry.next_run_at = until
    entry.save(update_fields=["next_run_at"])
    return outcome


def _followed_up(entry: JourneyEntry) -> bool:
    """Whether the follow-up event came (checked again when the window closes: events may be
    stored late)."""
    journey = entry.journey
    if journey.trigger != TriggerKind.EVENT_WITHOUT_FOLLOW_UP:
        return False
    return Event.objects.filter(
        visitor_id=entry.visitor_id,
        type=journey.follow_up_event,
        occurred_at__gte=entry.triggered_at,
    ).exists()


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


def message_variables(visitor: Visitor, entry: JourneyEntry) -> dict[str, Any]:
    """What an editor's template may print about the visitor."""
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
        "journey": entry.journey.name,
        "site_name": settings.WAGTAIL_SITE_NAME,
        "site_url": absolute_url("/"),
        "unsubscribe_url": unsubscribe_url(visitor_uuid=visitor.uuid, user_id=visitor.user_id),
    }


def _act(entry: JourneyEntry, step: JourneyStep, visitor: Visitor, run: Run) -> JourneyMessage:
    message = JourneyMessage(
        entry=entry,
        journey_id=entry.journey_id,
        step=step,
        visitor=visitor,
        channel=step.action,
        created_at=run.now,
    )
    choices = consents_for_visitors([visitor])[visitor.pk]
    if not choices["marketing"] or choices["unsubscribed"]:
        return _record(message, MessageStatus.SUPPRESSED_CONSENT, "no marketing consent")
    cap = cap_reached(visitor, run.now, run.settings)
    if cap:
        return _record(message, MessageStatus.SUPPRESSED_CAP, f"{cap} cap reached")
    variables = message_variables(visitor, entry)
    if step.action == StepAction.EMAIL:
        return _email(message, step, visitor, variables, run.now)
    if step.action == StepAction.ON_SITE:
        return _on_site(message, step, visitor, variables, run.now)
    return _webhook(message, step, visitor, run.now)


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
    _flag_message_waiting(visitor)
    return message


def _flag_message_waiting(visitor: Visitor) -> None:
    """Tell page views that a message waits: now, and again once it is committed (a page view
    in between finds nothing yet and clears the flag)."""

    def flag() -> None:
        cache.set(ONSITE_FLAG.format(visitor.uuid), 1, ONSITE_MESSAGE_DAYS * 86400)

    flag()
    transaction.on_commit(flag)


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
    from config.jobs import enqueue
    from personalization.jobs import deliver_webhook

    enqueue("default", deliver_webhook, message_id)


def _webhooks_due(now: datetime.datetime) -> int:
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


# ON-SITE MESSAGES (read by the NotificationBlock and the page's notification slot)
# ------------------------------------------------------------------------------


def onsite_message_take(request, now: datetime.datetime | None = None) -> JourneyMessage | None:
    """The visitor's oldest unshown on-site message, marked shown; at most one per request.

    Costs no query unless the visitor has a message waiting (a cache flag set when one is
    made)."""
    if hasattr(request, "_journey_message_taken"):
        return None
    request._journey_message_taken = True
    visitor_uuid = getattr(request, "visitor_uuid", None)
    if visitor_uuid is None or not cache.get(ONSITE_FLAG.format(visitor_uuid)):
        return None
    visitor = getattr(request, "visitor", None)
    if visitor is None or visitor.pk is None:
        return None
    now = now or timezone.now()
    waiting = JourneyMessage.objects.filter(
        visitor_id=visitor.pk,
        channel=StepAction.ON_SITE,
        status=MessageStatus.SENT,
        shown_at__isnull=True,
        created_at__gte=now - datetime.timedelta(days=ONSITE_MESSAGE_DAYS),
    ).order_by("created_at")
    message = waiting.first()
    if message is None:
        cache.delete(ONSITE_FLAG.format(visitor_uuid))
        return None
    JourneyMessage.objects.filter(pk=message.pk).update(shown_at=now)
    return message


# REPORT
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepReport:
    step: JourneyStep
    sent: int
    suppressed_cap: int
    suppressed_consent: int
    failed: int
    skipped: int
    pending: int
    converted: int


@dataclass(frozen=True)
class JourneyReport:
    journey: Journey
    entered: int
    waiting: int
    messaged: int
    cancelled: int
    exited: int
    suppressed_cap: int
    suppressed_consent: int
    converted: int
    steps: list[StepReport]

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.messaged if self.messaged else None


def journey_report(*, journey: Journey) -> JourneyReport:
    """Entered, messaged, suppressed (cap / consent), converted — per journey and per step, from
    a few GROUP BY queries."""
    entries = JourneyEntry.objects.filter(journey=journey).aggregate(
        entered=Count("pk"),
        waiting=Count("pk", filter=Q(status=EntryStatus.WAITING)),
        messaged=Count("pk", filter=Q(first_messaged_at__isnull=False)),
        cancelled=Count("pk", filter=Q(status=EntryStatus.CANCELLED)),
        exited=Count("pk", filter=Q(status=EntryStatus.EXITED)),
        converted=Count("pk", filter=Q(converted_at__isnull=False)),
    )
    by_step: dict[int | None, Counter] = defaultdict(Counter)
    for row in (
        JourneyMessage.objects.filter(journey=journey)
        .values("step_id", "status")
        .annotate(n=Count("pk"))
    ):
        by_step[row["step_id"]][row["status"]] += row["n"]
    converted_after = dict(
        JourneyMessage.objects.filter(
            journey=journey,
            status=MessageStatus.SENT,
            entry__converted_at__isnull=False,
        )
        .values("step_id")
        .annotate(n=Count("entry", distinct=True))
        .values_list("step_id", "n")
    )
    totals: Counter = sum(by_step.values(), Counter())
    steps = [
        StepReport(
            step=step,
            sent=by_step[step.pk][MessageStatus.SENT],
            suppressed_cap=by_step[step.pk][MessageStatus.SUPPRESSED_CAP],
            suppressed_consent=by_step[step.pk][MessageStatus.SUPPRESSED_CONSENT],
            failed=by_step[step.pk][MessageStatus.FAILED],
            skipped=by_step[step.pk][MessageStatus.SKIPPED],
            pending=by_step[step.pk][MessageStatus.PENDING],
            converted=converted_after.get(step.pk, 0),
        )
        for step in journey.steps.order_by("sort_order", "pk")
    ]
    return JourneyReport(
        journey=journey,
        suppressed_cap=totals[MessageStatus.SUPPRESSED_CAP],
        suppressed_consent=totals[MessageStatus.SUPPRESSED_CONSENT],
        steps=steps,
        **entries,
    )
