"""Reads for the report, the CSV export and the API: results computed from the aggregates."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from django.db.models import Sum

from experiments.models import DailyAggregate, Experiment, Goal, SegmentAggregate
from experiments.stats import VariantInput, analyse
from personalization.models import Segment


def _inputs(experiment: Experiment, totals: dict[int, dict]) -> list[VariantInput]:
    variants = sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))
    return [
        VariantInput(
            name=v.name,
            weight=v.weight,
            exposures=int(totals.get(v.pk, {}).get("exposures") or 0),
            conversions=int(totals.get(v.pk, {}).get("conversions") or 0),
            value_sum=float(totals.get(v.pk, {}).get("value_sum") or 0),
            value_sum_squares=float(totals.get(v.pk, {}).get("value_sum_squares") or 0),
        )
        for v in variants
    ]


def _totals(queryset) -> dict[int, dict]:
    rows = queryset.values("variant_id").annotate(
        exposures=Sum("exposures"),
        conversions=Sum("conversions"),
        value_sum=Sum("value_sum"),
        value_sum_squares=Sum("value_sum_squares"),
    )
    return {row["variant_id"]: row for row in rows}


def primary_goal(experiment: Experiment) -> Goal | None:
    goals = list(experiment.goals.all())
    return next((g for g in goals if g.is_primary), goals[0] if goals else None)


def experiment_results(
    *, experiment: Experiment, goal: Goal | None = None, segment_id: int | None = None
) -> dict:
    """The results table (per variant, with SRM) for one goal, overall or for one segment."""
    goal = goal or primary_goal(experiment)
    if goal is None:
        return {"goal": None, "segment_id": segment_id, "variants": [], "srm": None}
    if segment_id is None:
        source = DailyAggregate.objects.filter(experiment=experiment, goal=goal)
    else:
        source = SegmentAggregate.objects.filter(
            experiment=experiment, goal=goal, segment_id=segment_id
        )
    analysis = analyse(_inputs(experiment, _totals(source)))
    return {
        "goal": {"id": goal.pk, "name": goal.name, "primary": goal.is_primary},
        "segment_id": segment_id,
        "variants": [dataclasses.asdict(v) for v in analysis.variants],
        "srm": dataclasses.asdict(analysis.srm) if analysis.srm else None,
    }


def experiment_report(*, experiment: Experiment) -> dict:
    """Everything the report shows: every goal overall, the primary goal per segment, the
    cumulative conversion-rate series, and when the aggregates were computed."""
    goals = list(experiment.goals.all())
    segment_ids = sorted(
        set(
            SegmentAggregate.objects.filter(experiment=experiment).values_list(
                "segment_id", flat=True
            )
        )
    )
    names = dict(Segment.objects.filter(pk__in=segment_ids).values_list("pk", "name"))
    snapshot = getattr(experiment, "snapshot", None)
    return {
        "experiment": {"key": experiment.key, "name": experiment.name, "status": experiment.status},
        "computed_at": snapshot.computed_at.isoformat() if snapshot else None,
        "goals": [experiment_results(experiment=experiment, goal=g) for g in goals],
        "segments": [
            {
                "id": sid,
                "name": names.get(sid, f"Segment {sid} (deleted)"),
                **experiment_results(experiment=experiment, segment_id=sid),
            }
            for sid in segment_ids
        ],
        "series": cumulative_series(experiment=experiment),
    }


def cumulative_series(*, experiment: Experiment) -> dict[str, list[tuple[str, float]]]:
    """Per variant: (day, cumulative conversion rate of the primary goal) for the chart."""
    goal = primary_goal(experiment)
    if goal is None:
        return {}
    names = {v.pk: v.name for v in experiment.variants.all()}
    rows = (
        DailyAggregate.objects.filter(experiment=experiment, goal=goal)
        .order_by("day")
        .values_list("variant_id", "day", "exposures", "conversions")
    )
    running: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for variant_id, day, exposures, conversions in rows:
        totals = running[variant_id]
        totals[0] += exposures
        totals[1] += conversions
        if totals[0]:
            series[names.get(variant_id, str(variant_id))].append(
                (day.isoformat(), totals[1] / totals[0])
            )
    return dict(series)
