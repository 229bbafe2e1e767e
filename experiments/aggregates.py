"""Report aggregates of an experiment: daily and per-segment sums recomputed from its
exposures and conversions by the `reports` jobs, read by `experiments.selectors`."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from experiments.models import (
    Conversion,
    DailyAggregate,
    Experiment,
    ExperimentSnapshot,
    Exposure,
    ExposureSegment,
    Goal,
    SegmentAggregate,
)


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
