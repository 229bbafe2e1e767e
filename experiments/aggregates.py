"""Report aggregates of an experiment: daily and per-segment sums recomputed from its
exposures and conversions by the `reports` jobs, read by `experiments.selectors`."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from experiments.models import (
    Conversion,
    DailyAggregate,
    Experiment,
    ExperimentSnapshot,
    Exposure,
    ExposureCovariate,
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
    for row in _daily_covariates(experiment):
        aggregate = rows.get((row["variant_id"], row["goal_id"], row["day"]))
        if aggregate is not None:
            aggregate.pre_conversions, aggregate.pre_post_conversions = row["n"], row["both"]
    return list(rows.values())


def _daily_covariates(experiment: Experiment):
    """Per variant, goal and exposure day: visitors who had reached the goal before exposure
    (the CUPED covariate) and how many of them converted after it."""
    converted = Conversion.objects.filter(
        goal_id=OuterRef("goal_id"), visitor_id=OuterRef("visitor_id")
    )
    return (
        ExposureCovariate.objects.filter(experiment=experiment)
        .annotate(day=TruncDate("exposure__exposed_at"), after=Exists(converted))
        .values("variant_id", "goal_id", "day")
        .annotate(n=Count("id"), both=Count("id", filter=Q(after=True)))
    )


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
    for segment_id, variant_id, goal_id, n, both in _segment_covariates(experiment):
        aggregate = rows.get((segment_id, variant_id, goal_id))
        if aggregate is not None:
            aggregate.pre_conversions, aggregate.pre_post_conversions = n, both
    return list(rows.values())


def _segment_covariates(experiment: Experiment) -> list[tuple]:
    """(segment, variant, goal, visitors who had reached the goal before exposure, of whom
    converted after it) in one GROUP BY."""
    covariate, segment = ExposureCovariate._meta.db_table, ExposureSegment._meta.db_table
    conversion = Conversion._meta.db_table
    sql = (
        f"SELECT es.segment_id, cv.variant_id, cv.goal_id, COUNT(*), COUNT(c.id) "
        f"FROM {covariate} cv JOIN {segment} es ON es.exposure_id = cv.exposure_id "
        f"LEFT JOIN {conversion} c ON c.goal_id = cv.goal_id AND c.visitor_id = cv.visitor_id "
        f"WHERE cv.experiment_id = %s GROUP BY es.segment_id, cv.variant_id, cv.goal_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [experiment.pk])
        return cursor.fetchall()


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
