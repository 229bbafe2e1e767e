"""Experiments with results for the report's tests: real exposure, conversion, segment and CUPED
covariate rows (bulk-inserted), counted by the real `reports` job."""

from __future__ import annotations

import datetime

from django.utils import timezone

from experiments.aggregates import aggregates_snapshot
from experiments.models import (
    Conversion,
    Experiment,
    ExperimentStatus,
    Exposure,
    ExposureCovariate,
    ExposureSegment,
    Goal,
    GoalKind,
    Variant,
)
from personalization.models import Visitor


def running_experiment(
    key: str = "report-test",
    variants: tuple[tuple[str, float], ...] = (("control", 0.5), ("b", 0.5)),
    days: float = 10,
    goals: tuple[str, ...] = ("Sign-up",),
    **fields,
) -> Experiment:
    """A running experiment started `days` ago; the first goal (a sign-up) is the primary."""
    experiment = Experiment.objects.create(key=key, name=key.replace("-", " ").title(), **fields)
    for order, (name, weight) in enumerate(variants):
        Variant.objects.create(experiment=experiment, name=name, weight=weight, sort_order=order)
    event_types = ["sign_up", "purchase", "add_to_cart"]
    for order, name in enumerate(goals):
        Goal.objects.create(
            experiment=experiment,
            name=name,
            is_primary=order == 0,
            kind=GoalKind.EVENT,
            event_type=event_types[order],
            sort_order=order,
        )
    experiment.status = ExperimentStatus.RUNNING
    experiment.started_at = timezone.now() - datetime.timedelta(days=days)
    experiment.save()
    return experiment


def fill(
    experiment: Experiment,
    counts: dict[str, tuple[int, int]],
    *,
    goal: str | None = None,
    segment_id: int | None = None,
    pre: dict[str, tuple[int, int]] | None = None,
    recount: bool = True,
) -> None:
    """Per variant name, (visitors exposed, of whom converted) on `goal` (default: the primary);
    `pre`: per variant, (visitors who had reached the goal before exposure, of whom converted
    after it). Exposed in `segment_id` when given. Then the aggregates are recounted."""
    variants = {v.name: v for v in experiment.variants.all()}
    goal_row = experiment.goals.get(name=goal) if goal else experiment.goals.get(is_primary=True)
    now = timezone.now()
    for name, (exposed, converted) in counts.items():
        variant = variants[name]
        visitors = Visitor.objects.bulk_create([Visitor() for _ in range(exposed)])
        exposures = Exposure.objects.bulk_create(
            [
                Exposure(
                    experiment=experiment,
                    variant=variant,
                    visitor=visitor,
                    exposed_at=now - datetime.timedelta(hours=1),
                    segment_ids=[segment_id] if segment_id else [],
                )
                for visitor in visitors
            ]
        )
        Conversion.objects.bulk_create(
            Conversion(
                experiment=experiment,
                goal=goal_row,
                variant=variant,
                visitor=visitor,
                converted_at=now - datetime.timedelta(minutes=30),
            )
            for visitor in visitors[:converted]
        )
        if segment_id:
            ExposureSegment.objects.bulk_create(
                ExposureSegment(
                    exposure=e,
                    experiment=experiment,
                    variant=variant,
                    visitor_id=e.visitor_id,
                    segment_id=segment_id,
                )
                for e in exposures
            )
        before, both = (pre or {}).get(name, (0, 0))
        # the first `both` converters had reached the goal before too; then non-converters
        chosen = exposures[:both] + exposures[converted : converted + before - both]
        ExposureCovariate.objects.bulk_create(
            ExposureCovariate(
                exposure=e,
                experiment=experiment,
                variant=variant,
                visitor_id=e.visitor_id,
                goal=goal_row,
            )
            for e in chosen
        )
    if recount:
        aggregates_snapshot(experiment=experiment)


def convert(experiment: Experiment, goal: str, counts: dict[str, int]) -> None:
    """Per variant name, that many of its exposed visitors reach `goal`; then a recount."""
    goal_row = experiment.goals.get(name=goal)
    for name, converted in counts.items():
        exposures = Exposure.objects.filter(experiment=experiment, variant__name=name)
        Conversion.objects.bulk_create(
            Conversion(
                experiment=experiment,
                goal=goal_row,
                variant_id=e.variant_id,
                visitor_id=e.visitor_id,
                converted_at=e.exposed_at + datetime.timedelta(minutes=10),
            )
            for e in exposures.order_by("pk")[:converted]
        )
    aggregates_snapshot(experiment=experiment)
