"""Assignment, exposures, conversions and aggregates. Reads on the request path use the
in-process registry and at most one query (the visitor's stored assignments); every write
happens in a job."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from wagtail.models import Page

from config.jobs import enqueue
from experiments.bucketing import assign
from experiments.models import (
    Assignment,
    Conversion,
    DailyAggregate,
    Experiment,
    ExperimentSnapshot,
    Exposure,
    ExposureSegment,
    Goal,
    GoalKind,
    SegmentAggregate,
)
from experiments.registry import ExperimentSpec, GoalSpec, VariantSpec, running_experiments
from personalization.models import EventType, Visitor
from personalization.resolver import resolve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VariantChoice:
    """The variant a request's visitor sees, and whether they count in the experiment."""

    experiment: ExperimentSpec
    variant: VariantSpec
    counted: bool
    reason: str

    @property
    def meta(self) -> dict:
        return {
            "experiment": self.experiment.key,
            "variant": self.variant.name,
            "counted": self.counted,
        }


def stored_assignments(request) -> dict[int, int]:
    """experiment id → variant id already stored for this visitor (one query, memoized)."""
    cached = getattr(request, "_experiment_assignments", None)
    if cached is not None:
        return cached
    visitor = getattr(request, "visitor", None)
    assignments: dict[int, int] = {}
    if visitor is not None and visitor.pk is not None:
        assignments = dict(
            Assignment.objects.filter(visitor_id=visitor.pk).values_list(
                "experiment_id", "variant_id"
            )
        )
    request._experiment_assignments = assignments
    return assignments


def _visitor_id(request) -> str:
    visitor = getattr(request, "visitor", None)
    return str(visitor.uuid if visitor is not None else request.visitor_uuid)


def variant_for(request, key: str) -> VariantChoice | None:
    """The visitor's variant of the running experiment `key` (None if it is not running).

    Stored assignment first (sticky); else the GrowthBook hash of the visitor id. Visitors
    outside the targeting or the coverage see the control and are not counted."""
    spec = running_experiments().by_key.get(key)
    if spec is None:
        return None
    memo = request.__dict__.setdefault("_experiment_choices", {})
    if key in memo:
        return memo[key]
    choice = _choose(request, spec)
    memo[key] = choice
    if choice.counted and not getattr(request, "is_preview", False):
        _record_exposure_once(request, choice)
    return choice


def _choose(request, spec: ExperimentSpec) -> VariantChoice:
    if getattr(request, "is_preview", False):
        return VariantChoice(spec, spec.control, False, "preview")
    resolution = resolve(request)
    if spec.target_segment_ids and not spec.target_segment_ids & set(resolution.segment_ids):
        return VariantChoice(spec, spec.control, False, "not targeted")
    stored = spec.variant_by_id(stored_assignments(request).get(spec.id, -1))
    if stored is not None:
        return VariantChoice(spec, stored, True, "stored")
    index = assign(
        seed=spec.seed,
        visitor_id=_visitor_id(request),
        weights=spec.weights,
        coverage=spec.coverage,
    )
    if index is None:
        return VariantChoice(spec, spec.control, False, "outside coverage")
    return VariantChoice(spec, spec.variants[index], True, "assigned")


def _record_exposure_once(request, choice: VariantChoice) -> None:
    """Queue the exposure, unless this visitor's assignment is already stored (then it was)."""
    if choice.reason == "stored":
        return
    from experiments.jobs import record_exposure

    user = getattr(request, "user", None)
    enqueue(
        "events",
        record_exposure,
        {
            "experiment_id": choice.experiment.id,
            "variant_id": choice.variant.id,
            "visitor": _visitor_id(request),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "segment_ids": list(resolve(request).segment_ids),
            "at": timezone.now().isoformat(),
        },
    )


def page_variant(request, page):
    """For a page with a running page-level experiment: (page to serve, choice) — the variant's
    draft revision, or the live page for the control — else (page, None)."""
    spec = running_experiments().by_page.get(page.pk)
    if spec is None:
        return page, None
    choice = variant_for(request, spec.key)
    if choice is None or choice.variant.revision_id is None:
        return page, choice
    from wagtail.models import Revision

    revision = Revision.objects.filter(pk=choice.variant.revision_id).first()
    if revision is None:
        return page, choice
    return revision.as_object(), choice


# JOBS' SERVICES
# ------------------------------------------------------------------------------


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
    _convert_earlier_events(exposure)
    return exposure


def _convert_earlier_events(exposure: Exposure) -> None:
    """Goal events stored before the exposure was (queues are not ordered between kinds) but
    that happened after it count too."""
    from personalization.models import Event

    spec = running_experiments().by_key.get(exposure.experiment.key)
    if spec is None:
        return
    events = Event.objects.filter(
        visitor_id=exposure.visitor_id, occurred_at__gte=exposure.exposed_at
    ).select_related("page")
    for event in events:
        for goal in spec.goals:
            if goal_matches(goal, event):
                conversion_record(exposure=exposure, goal_id=goal.id, event=event)


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
    for model in (Assignment, Exposure, ExposureSegment, Conversion):
        rows = model.objects.filter(visitor=source)
        rows.filter(experiment_id__in=mine).delete()
        rows.exclude(experiment_id__in=mine).update(visitor=target)


# AGGREGATES
# ------------------------------------------------------------------------------


def aggregates_snapshot(*, experiment: Experiment) -> ExperimentSnapshot:
    """Recompute the experiment's daily and per-segment aggregates from its exposures and
    conversions: a handful of GROUP BY queries, never a loop over rows."""
    started = timezone.now()
    goals = list(Goal.objects.filter(experiment=experiment).values_list("pk", flat=True))
    daily = _daily_rows(experiment, goals)
    segments = _segment_rows(experiment, goals)
    with transaction.atomic():
        DailyAggregate.objects.filter(experiment=experiment).delete()
        DailyAggregate.objects.bulk_create(daily, batch_size=1000)
        SegmentAggregate.objects.filter(experiment=experiment).delete()
        SegmentAggregate.objects.bulk_create(segments, batch_size=1000)
        snapshot, _ = ExperimentSnapshot.objects.update_or_create(
            experiment=experiment,
            defaults={
                "computed_at": timezone.now(),
                "seconds": (timezone.now() - started).total_seconds(),
            },
        )
    return snapshot


def _sums(queryset, value_field: str = "value"):
    return queryset.annotate(
        n=Count("id"),
        total=Sum(value_field),
        squares=Sum(Cast(F(value_field), FloatField()) * Cast(F(value_field), FloatField())),
    )


def _daily_rows(experiment: Experiment, goals: list[int]) -> list[DailyAggregate]:
    exposures = (
        Exposure.objects.filter(experiment=experiment)
        .annotate(day=TruncDate("exposed_at"))
        .values("variant_id", "day")
        .annotate(n=Count("id"))
    )
    conversions = _sums(
        Conversion.objects.filter(experiment=experiment)
        .annotate(day=TruncDate("converted_at"))
        .values("variant_id", "goal_id", "day")
    )
    rows: dict[tuple, DailyAggregate] = {}
    for row in exposures:
        for goal_id in goals:
            rows[(row["variant_id"], goal_id, row["day"])] = DailyAggregate(
                experiment=experiment,
                variant_id=row["variant_id"],
                goal_id=goal_id,
                day=row["day"],
                exposures=row["n"],
            )
    for row in conversions:
        key = (row["variant_id"], row["goal_id"], row["day"])
        aggregate = rows.setdefault(
            key,
            DailyAggregate(experiment=experiment, variant_id=key[0], goal_id=key[1], day=key[2]),
        )
        aggregate.conversions = row["n"]
        aggregate.value_sum = row["total"] or Decimal("0")
        aggregate.value_sum_squares = row["squares"] or 0.0
    return list(rows.values())


def _segment_rows(experiment: Experiment, goals: list[int]) -> list[SegmentAggregate]:
    exposures = (
        ExposureSegment.objects.filter(experiment=experiment)
        .values("segment_id", "variant_id")
        .annotate(n=Count("id"))
    )
    rows: dict[tuple, SegmentAggregate] = {}
    for row in exposures:
        for goal_id in goals:
            rows[(row["segment_id"], row["variant_id"], goal_id)] = SegmentAggregate(
                experiment=experiment,
                segment_id=row["segment_id"],
                variant_id=row["variant_id"],
                goal_id=goal_id,
                exposures=row["n"],
            )
    for row in _segment_conversions(experiment):
        aggregate = rows.get((row[0], row[1], row[2]))
        if aggregate is not None:
            aggregate.conversions, aggregate.value_sum, aggregate.value_sum_squares = (
                row[3],
                row[4] or Decimal("0"),
                float(row[5] or 0),
            )
    return list(rows.values())


def _segment_conversions(experiment: Experiment) -> list[tuple]:
    """(segment, variant, goal, conversions, value sum, value squares) in one GROUP BY."""
    from django.db import connection

    conversion, segment = Conversion._meta.db_table, ExposureSegment._meta.db_table
    sql = (
        f"SELECT es.segment_id, c.variant_id, c.goal_id, COUNT(*), SUM(c.value), "
        f"SUM(CAST(c.value AS REAL) * CAST(c.value AS REAL)) "
        f"FROM {conversion} c JOIN {segment} es "
        f"ON es.experiment_id = c.experiment_id AND es.visitor_id = c.visitor_id "
        f"WHERE c.experiment_id = %s GROUP BY es.segment_id, c.variant_id, c.goal_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [experiment.pk])
        return [(*row[:4], Decimal(str(row[4] or 0)), row[5]) for row in cursor.fetchall()]
