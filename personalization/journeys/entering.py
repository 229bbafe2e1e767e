"""Entering journeys from events, inside the event pipeline's transaction (a receiver of
`events_stored`): enter, restart the window, cancel on the follow-up, convert."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from personalization.events.models import Event
from personalization.journeys.models import (
    EntryStatus,
    Journey,
    JourneyEntry,
    JourneyStatus,
    TriggerKind,
)

logger = logging.getLogger(__name__)


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
