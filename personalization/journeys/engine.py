"""Journeys: evaluating the due steps (the periodic job). Entering from events is in
`entering`, the actions and their caps in `delivery`, on-site messages in `onsite`, the
report in `reports`.


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
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from personalization.consent import consent_defaults
from personalization.events.models import Event
from personalization.journeys.delivery import act, quiet_hours_end, webhooks_due
from personalization.journeys.models import (
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyStatus,
    JourneyStep,
    MessageStatus,
    MessagingSettings,
    TriggerKind,
)
from personalization.models import Consent, Visitor

logger = logging.getLogger(__name__)

TIME_TRIGGER_LOOKBACK = datetime.timedelta(days=7)
EVALUATION_CHUNK = 500
RETRY_LATER = datetime.timedelta(minutes=5)


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
    outcomes["webhooks"] = webhooks_due(run.now)
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
    message = act(entry, step, visitor, now=run.now, config=run.settings)
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
