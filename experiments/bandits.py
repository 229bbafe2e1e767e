"""Bandit allocation of running experiments: the periodic reweighting (a write), and the weight
history the report and the results API show (reads).

The bandit reads the report's own numbers (the primary goal's exposures and conversions in the
daily aggregates, recounted just before), sets the variants' weights, keeps a `BanditWeights`
row per reweighting, and bumps the registry so every process serves the new weights. Visitors
already assigned keep their variant: a stored assignment wins over the weights
(`experiments.services`), so only new visitors follow them. See docs/statistics.md, "Bandits".
"""

from __future__ import annotations

import copy
import datetime
import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from experiments.models import (
    Allocation,
    BanditWeights,
    DailyAggregate,
    Experiment,
    ExperimentStatus,
    Variant,
)
from experiments.registry import bump_registry
from experiments.statistics.bandit import (
    Arm,
    bandit_allocation,
    chance_to_be_best,
    draw_seed,
    rounded_weights,
)
from personalization.api.datetimes import api_datetime

logger = logging.getLogger(__name__)


def _variants(experiment: Experiment) -> list[Variant]:
    return sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))


def _primary_goal_id(experiment: Experiment) -> int | None:
    """The report's primary goal (`selectors.primary_goal`): never a guardrail."""
    goals = [g for g in experiment.goals.all() if not g.is_guardrail]
    primary = next((g for g in goals if g.is_primary), goals[0] if goals else None)
    return primary.pk if primary else None


def bandit_arms(*, experiment: Experiment, variants: list[Variant]) -> list[Arm]:
    """Each variant's exposures and conversions on the primary goal, from the aggregates (the
    figures of the report), in variant order."""
    goal_id = _primary_goal_id(experiment)
    totals = dict.fromkeys((v.pk for v in variants), (0, 0))
    if goal_id is not None:
        rows = (
            DailyAggregate.objects.filter(experiment=experiment, goal_id=goal_id)
            .values("variant_id")
            .annotate(exposures=Sum("exposures"), conversions=Sum("conversions"))
        )
        for row in rows:
            if row["variant_id"] in totals:
                totals[row["variant_id"]] = (row["exposures"] or 0, row["conversions"] or 0)
    # a conversion counted on a later day than a late exposure cannot exceed the visitors
    return [Arm(e, min(c, e)) for e, c in (totals[v.pk] for v in variants)]


def _interval(experiment: Experiment) -> datetime.timedelta:
    return datetime.timedelta(minutes=max(experiment.bandit_interval_minutes, 1))


def _is_due(experiment: Experiment, now: datetime.datetime) -> bool:
    updated = experiment.bandit_updated_at
    return updated is None or now - updated >= _interval(experiment)


def bandits_due(*, now: datetime.datetime | None = None) -> list[Experiment]:
    """Running bandit experiments whose reweighting interval has passed (or never ran)."""
    now = now or timezone.now()
    running = Experiment.objects.filter(
        status=ExperimentStatus.RUNNING, allocation=Allocation.BANDIT
    ).order_by("pk")
    return [experiment for experiment in running if _is_due(experiment, now)]


def _time_bucket(experiment: Experiment, now: datetime.datetime) -> int:
    """The number of the reweighting interval `now` falls in: with the experiment's seed, the
    seed of the draws, so a reweighting can be reproduced from its time."""
    return int(now.timestamp() // _interval(experiment).total_seconds())


@transaction.atomic
def bandit_reweight(
    *, experiment: Experiment, now: datetime.datetime | None = None, force: bool = False
) -> BanditWeights | None:
    """Set a running bandit's weights from its primary goal's results; None when it is not a
    running bandit, or (unless `force`) its interval has not passed since the last time.

    The experiment row is locked, so two workers never reweight it at once."""
    now = now or timezone.now()
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status != ExperimentStatus.RUNNING or experiment.allocation != Allocation.BANDIT:
        return None
    if not force and not _is_due(experiment, now):
        return None
    variants = _variants(experiment)
    if len(variants) < 2:
        return None
    arms = bandit_arms(experiment=experiment, variants=variants)
    allocation = bandit_allocation(
        arms,
        burn_in=experiment.bandit_burn_in,
        floor=experiment.bandit_floor,
        seed=draw_seed(experiment.seed, _time_bucket(experiment, now)),
    )
    for variant, weight in zip(variants, allocation.weights, strict=True):
        variant.weight = weight
    Variant.objects.bulk_update(variants, ["weight"])
    names = [v.name for v in variants]
    record = BanditWeights.objects.create(
        experiment=experiment,
        computed_at=now,
        phase=allocation.phase,
        weights=dict(zip(names, allocation.weights, strict=True)),
        exposures={name: arm.exposures for name, arm in zip(names, arms, strict=True)},
        conversions={name: arm.conversions for name, arm in zip(names, arms, strict=True)},
    )
    experiment.bandit_updated_at = now
    experiment.save(update_fields=["bandit_updated_at", "updated_at"])
    # the weights changed without a Variant post_save: every process reloads them
    bump_registry()
    transaction.on_commit(bump_registry)
    logger.info("Bandit %s reweighted (%s): %s", experiment.key, allocation.phase, record.weights)
    return record


def bandit_equal_weights(*, variants: list[Variant]) -> list[float]:
    """The weights a bandit starts with: equal (its burn-in)."""
    return rounded_weights([1 / len(variants)] * len(variants)) if variants else []


# READS: THE REPORT'S "WEIGHT HISTORY" AND THE RESULTS API'S `bandit`
# ------------------------------------------------------------------------------


def bandit_summary(*, experiment: Experiment) -> dict | None:
    """A bandit's settings, each reweighting (weights and the data behind them), and every
    arm's current chance to be best; None for a fixed-weight experiment."""
    if experiment.allocation != Allocation.BANDIT:
        return None
    variants = _variants(experiment)
    history = [
        {
            "computed_at": api_datetime(row.computed_at),
            "phase": row.phase,
            "weights": row.weights,
            "exposures": row.exposures,
            "conversions": row.conversions,
        }
        for row in BanditWeights.objects.filter(experiment=experiment).order_by("computed_at", "pk")
    ]
    chances = None
    if len(variants) >= 2:
        arms = bandit_arms(experiment=experiment, variants=variants)
        if any(arm.exposures for arm in arms):
            values = chance_to_be_best(arms, seed=draw_seed(experiment.seed, "report"))
            chances = dict(zip((v.name for v in variants), values, strict=True))
    updated = experiment.bandit_updated_at
    return {
        "burn_in": experiment.bandit_burn_in,
        "floor": experiment.bandit_floor,
        "interval_minutes": experiment.bandit_interval_minutes,
        "updated_at": api_datetime(updated),
        "weights": {v.name: v.weight for v in variants},
        "chance_to_be_best": chances,
        "history": history,
    }


def with_bandit_weights(*, experiment: Experiment, variants: list[Variant]) -> list[Variant]:
    """For a bandit, copies of `variants` whose weight is the share each should have received
    over time (`bandit_effective_weights`), which the report's sample-ratio check compares the
    exposures with; fixed-weight experiments' variants unchanged."""
    if experiment.allocation != Allocation.BANDIT or not variants:
        return variants
    effective = bandit_effective_weights(experiment=experiment, variants=variants)
    copies = [copy.copy(variant) for variant in variants]
    for variant, weight in zip(copies, effective, strict=True):
        variant.weight = weight
    return copies


def bandit_effective_weights(*, experiment: Experiment, variants: list[Variant]) -> list[float]:
    """The share of the visitors each arm should have received, given the weights in force
    over time: what the sample-ratio check must compare a bandit's exposures with.

    Visitors exposed before the first reweighting came at the starting (equal) weights; those
    between two reweightings at the weights set by the earlier one; those since the last one at
    the current weights. Exposures per period are the differences of the recorded totals."""
    names = [v.name for v in variants]
    arms = bandit_arms(experiment=experiment, variants=variants)
    total_now = sum(arm.exposures for arm in arms)
    if not names or total_now == 0:
        return [v.weight for v in variants]
    expected = dict.fromkeys(names, 0.0)
    weights = dict(zip(names, bandit_equal_weights(variants=variants), strict=True))
    seen = 0
    for row in BanditWeights.objects.filter(experiment=experiment).order_by("computed_at", "pk"):
        total = sum(int(row.exposures.get(name, 0)) for name in names)
        period = max(min(total, total_now) - seen, 0)
        for name in names:
            expected[name] += period * weights[name]
        seen = max(seen, min(total, total_now))
        weights = {name: float(row.weights.get(name, 0)) for name in names}
    for name in names:
        expected[name] += (total_now - seen) * weights[name]
    return [expected[name] / total_now for name in names]
