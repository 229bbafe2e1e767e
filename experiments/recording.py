"""Who saw which variant and who converted: the writes the exposure jobs and the event
receivers make (assignments, exposures, conversions, merges of visitors). Nothing here runs
on the request path; `experiments.services` queues the jobs that call it."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import Page

from experiments.models import (
    Assignment,
    Conversion,
    Experiment,
    Exposure,
    ExposureCovariate,
    ExposureSegment,
    GoalKind,
)
from experiments.registry import GoalSpec, running_experiments
from personalization.events.models import Event, EventType
from personalization.models import Visitor


def _visitor(visitor_uuid: str, user_id: int | None) -> Visitor:
    if user_id:
        member = Visitor.objects.filter(user_id=user_id).first()
        if member is not None:
            return member
    visitor, _ = Visitor.objects.get_or_create(uuid=visitor_uuid)
    if visitor.merged_into_id:
        return visitor.merged_into
    if user_id and visitor.user_id is None:
        visitor.user_id = user_id
        visitor.save(update_fields=["user"])
    return visitor


@transaction.atomic
def exposure_record(
    *,
    experiment_id: int,
    variant_id: int,
    visitor: str,
    user_id: int | None = None,
    segment_ids: list[int] | None = None,
    at: str | None = None,
) -> Exposure | None:
    """Store the assignment (sticky: an earlier one wins) and the first exposure, once."""
    experiment = Experiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        return None
    person = _visitor(visitor, user_id)
    exposed_at = datetime.datetime.fromisoformat(at) if at else timezone.now()
    assignment, _ = Assignment.objects.get_or_create(
        experiment=experiment,
        visitor=person,
        defaults={"variant_id": variant_id, "assigned_at": exposed_at},
    )
    try:
        with transaction.atomic():
            exposure = Exposure.objects.create(
                experiment=experiment,
                variant_id=assignment.variant_id,
                visitor=person,
                exposed_at=exposed_at,
                segment_ids=sorted(set(segment_ids or [])),
            )
    except IntegrityError:
        return None  # already exposed (a retry, or another worker)
    ExposureSegment.objects.bulk_create(
        [
            ExposureSegment(
                exposure=exposure,
                experiment=experiment,
                variant_id=exposure.variant_id,
                visitor=person,
                segment_id=segment_id,
            )
            for segment_id in exposure.segment_ids
        ]
    )
    _read_events_around(exposure)
    return exposure


def _goal_event_types(goals: tuple[GoalSpec, ...]) -> set[str]:
    """The event types any of `goals` can match."""
    kinds = {GoalKind.PAGE_VISIT: EventType.PAGE_VIEW, GoalKind.CUSTOM: EventType.GOAL}
    return {kinds.get(goal.kind, goal.event_type) for goal in goals}


def _read_events_around(exposure: Exposure) -> None:
    """One query for the visitor's goal events from the experiment's CUPED window before the
    exposure on. Those before it are the CUPED covariate: the goals the visitor had already
    reached, snapshot now so the report never scans events. Those after it were stored before
    the exposure was (queues are not ordered between kinds) and count as conversions."""
    experiment = exposure.experiment
    spec = running_experiments().by_key.get(experiment.key)
    if spec is None or not spec.goals:
        return
    window = datetime.timedelta(days=experiment.cuped_window_days)
    events = Event.objects.filter(
        visitor_id=exposure.visitor_id,
        occurred_at__gte=exposure.exposed_at - window,
        type__in=_goal_event_types(spec.goals),
    ).select_related("page")
    reached: set[int] = set()
    for event in events:
        before = event.occurred_at < exposure.exposed_at
        for goal in spec.goals:
            if not goal_matches(goal, event):
                continue
            if before:
                reached.add(goal.id)
            else:
                conversion_record(exposure=exposure, goal_id=goal.id, event=event)
    ExposureCovariate.objects.bulk_create(
        [
            ExposureCovariate(
                exposure=exposure,
                experiment_id=exposure.experiment_id,
                variant_id=exposure.variant_id,
                visitor_id=exposure.visitor_id,
                goal_id=goal_id,
            )
            for goal_id in sorted(reached)
        ]
    )


def _amount(event) -> Decimal:
    try:
        amount = Decimal(str((event.properties or {}).get("amount", 0)))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("0")
    return amount if amount.is_finite() and amount >= 0 else Decimal("0")


def goal_could_match(goal: GoalSpec, event) -> bool:
    """Whether `event` may reach `goal`, from the event's own fields (no query)."""
    if goal.kind == GoalKind.PAGE_VISIT:
        return event.type == EventType.PAGE_VIEW and event.page_id is not None
    if goal.kind == GoalKind.CUSTOM:
        return event.type == EventType.GOAL and event.name == goal.custom_name
    return event.type == goal.event_type


def goal_matches(goal: GoalSpec, event, page_path: str | None = None) -> bool:
    """Whether `event` reaches `goal` (`page_path`: the event's page path when known)."""
    if goal.kind == GoalKind.PAGE_VISIT:
        if event.type != EventType.PAGE_VIEW or event.page_id is None or goal.page_path is None:
            return False
        path = page_path if page_path is not None else event.page.path
        if goal.include_descendants:
            return path.startswith(goal.page_path)
        return path == goal.page_path
    if goal.kind == GoalKind.CUSTOM:
        return event.type == EventType.GOAL and event.name == goal.custom_name
    if event.type != goal.event_type:
        return False
    return goal.min_amount is None or float(_amount(event)) >= goal.min_amount


def conversion_record(*, exposure: Exposure, goal_id: int, event) -> bool:
    """At most one conversion per visitor per goal: the database constraint decides."""
    try:
        with transaction.atomic():
            Conversion.objects.create(
                experiment_id=exposure.experiment_id,
                goal_id=goal_id,
                variant_id=exposure.variant_id,
                visitor_id=exposure.visitor_id,
                converted_at=event.occurred_at,
                value=_amount(event),
            )
    except IntegrityError:
        return False
    return True


def conversions_for_event(*, event, visitor) -> int:
    """Match a newly stored event against the goals of the experiments its visitor saw."""
    return conversions_for_events(stored=[(event, visitor)])


def conversions_for_events(*, stored: list[tuple]) -> int:
    """Match a batch of newly stored (event, visitor) pairs against the goals of the running
    experiments their visitors saw: events no goal can match cost nothing, the rest one query
    for the exposures of the whole batch (and one for page paths)."""
    registry = running_experiments()
    if not registry.by_key or not stored:
        return 0
    specs = {spec.id: spec for spec in registry.by_key.values()}
    goals = [goal for spec in specs.values() for goal in spec.goals]
    candidates = [
        (event, visitor)
        for event, visitor in stored
        if any(goal_could_match(goal, event) for goal in goals)
    ]
    if not candidates:
        return 0
    page_ids = {event.page_id for event, _ in candidates if event.page_id}
    paths = dict(Page.objects.filter(pk__in=page_ids).values_list("pk", "path")) if page_ids else {}
    exposures: dict[int, list[Exposure]] = defaultdict(list)
    for exposure in Exposure.objects.filter(
        visitor_id__in={visitor.pk for _, visitor in candidates}, experiment_id__in=specs
    ):
        exposures[exposure.visitor_id].append(exposure)
    converted = 0
    for event, visitor in candidates:
        for exposure in exposures.get(visitor.pk, ()):
            if exposure.exposed_at > event.occurred_at:
                continue
            for goal in specs[exposure.experiment_id].goals:
                if goal_matches(goal, event, paths.get(event.page_id)):
                    converted += int(
                        conversion_record(exposure=exposure, goal_id=goal.id, event=event)
                    )
    return converted


@transaction.atomic
def visitor_experiments_merge(*, source: Visitor, target: Visitor) -> None:
    """A member keeps what their anonymous self was assigned, exposed to and converted on
    (where the member has their own, theirs wins)."""
    mine = set(Assignment.objects.filter(visitor=target).values_list("experiment_id", flat=True))
    for model in (Assignment, Exposure, ExposureSegment, ExposureCovariate, Conversion):
        rows = model.objects.filter(visitor=source)
        rows.filter(experiment_id__in=mine).delete()
        rows.exclude(experiment_id__in=mine).update(visitor=target)
