"""Reads for the report, the CSV export and the results API: one computation from the aggregates
the `reports` job keeps, so the three always show the same figures.

Every comparison of a variant with the control on a goal (overall, and per segment-at-exposure on
the primary goal) uses the experiment's analysis: the sequential test by default, the
fixed-horizon test at a planned size otherwise, CUPED when visitors' pre-exposure behaviour is
known. The p-values of all the comparisons the report shows form one family, adjusted by Holm or
Benjamini-Hochberg; a verdict needs the adjusted p-value below alpha, and none is given before
every arm has MIN_EVENTS_PER_ARM conversions (and, for fixed-horizon, the planned visitors). See
docs/statistics.md.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from experiments.bandits import bandit_summary, with_bandit_weights
from experiments.guardrails import guardrail_results
from experiments.models import (
    Correction,
    DailyAggregate,
    Experiment,
    ExperimentStatus,
    Goal,
    SegmentAggregate,
    Variant,
)
from experiments.stats import (
    MIN_EVENTS_PER_ARM,
    Estimate,
    Sample,
    VariantInput,
    adjust_p_values,
    analyse,
    compare,
)
from personalization.api.datetimes import api_datetime
from personalization.models import Segment

logger = logging.getLogger(__name__)

SUMMED = (
    "exposures",
    "conversions",
    "value_sum",
    "value_sum_squares",
    "pre_conversions",
    "pre_post_conversions",
)
UNDEFINED = Estimate(None, None, None, None)
CORRECTION_NAMES = {
    Correction.HOLM: gettext_lazy("Holm"),
    Correction.BH: gettext_lazy("Benjamini–Hochberg"),
}


class Verdict:
    """The states of the report's banner."""

    NOT_STARTED = "not_started"
    COLLECTING = "collecting"
    SRM = "srm"
    BETTER = "better"
    WORSE = "worse"
    NO_DIFFERENCE = "no_difference"
    CONCLUSIVE = (BETTER, WORSE)


# AGGREGATES
# ------------------------------------------------------------------------------


def _variants(experiment: Experiment) -> list[Variant]:
    return sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))


def _totals(queryset) -> dict[tuple, dict]:
    """(goal id, segment id or None, variant id) → the summed aggregates, in one GROUP BY."""
    segmented = queryset.model is SegmentAggregate
    keys = ["goal_id", "variant_id"] + (["segment_id"] if segmented else [])
    rows = queryset.values(*keys).annotate(**{f"t_{f}": Sum(f) for f in SUMMED})
    return {
        (row["goal_id"], row.get("segment_id"), row["variant_id"]): {
            f: row[f"t_{f}"] or 0 for f in SUMMED
        }
        for row in rows
    }


# ONE TABLE: VARIANTS AGAINST THE CONTROL ON ONE GOAL
# ------------------------------------------------------------------------------


def _input(variant: Variant, totals: dict) -> VariantInput:
    return VariantInput(
        name=variant.name,
        weight=variant.weight,
        exposures=int(totals.get("exposures", 0)),
        conversions=int(totals.get("conversions", 0)),
        value_sum=float(totals.get("value_sum", 0)),
        value_sum_squares=float(totals.get("value_sum_squares", 0)),
    )


def _sample(totals: dict) -> Sample:
    return Sample(
        n=int(totals.get("exposures", 0)),
        sum=float(totals.get("conversions", 0)),
        pre_sum=float(totals.get("pre_conversions", 0)),
        post_pre_sum_products=float(totals.get("pre_post_conversions", 0)),
    )


def _estimate(control: Sample, variant: Sample, experiment: Experiment, **options) -> Estimate:
    """compare() with the experiment's analysis; no answer (rather than a 500) on bad sums."""
    try:
        return compare(
            control,
            variant,
            sequential=experiment.sequential,
            alpha=experiment.alpha,
            binary=True,
            **options,
        )
    except ValueError:
        logger.warning("Experiment %s: aggregates not comparable", experiment.key, exc_info=True)
        return UNDEFINED


def _shortfall(experiment: Experiment, arms: list[tuple[str, dict]]) -> list[str]:
    """Why a comparison of these arms gives no verdict yet ([] when it may)."""
    low = [(name, int(t.get("conversions", 0))) for name, t in arms]
    low = [(name, n) for name, n in low if n < MIN_EVENTS_PER_ARM]
    reasons = []
    if low:
        counts = ", ".join(f"{name} {n}" for name, n in low)
        reasons.append(
            _("not enough data yet: %(counts)s of %(needed)s conversions per variant")
            % {"counts": counts, "needed": MIN_EVENTS_PER_ARM}
        )
    plan = experiment.planned_sample_size
    if not experiment.sequential and plan:
        short = [(name, int(t.get("exposures", 0))) for name, t in arms]
        short = [(name, n) for name, n in short if n < plan]
        if short:
            counts = ", ".join(f"{name} {n:,}" for name, n in short)
            reasons.append(
                _("planned size not reached: %(counts)s of %(plan)s visitors")
                % {"counts": counts, "plan": f"{plan:,}"}
            )
    return reasons


def _row(
    experiment: Experiment, variant: Variant, totals: dict, control: tuple[Variant, dict], legacy
) -> dict:
    """One variant's figures against the control (comparison fields None on the control)."""
    row = {
        "name": variant.name,
        "is_control": control[0].pk == variant.pk,
        "exposures": legacy.exposures,
        "conversions": legacy.conversions,
        "rate": legacy.rate,
        "revenue_per_visitor": legacy.revenue_per_visitor,
        "uplift": None,
        "ci_low": None,
        "ci_high": None,
        "abs_uplift": None,
        "abs_ci_low": None,
        "abs_ci_high": None,
        "p_value": None,
        "adjusted_p_value": None,
        "chance_to_beat_control": None,
        "cuped": False,
        "ready": False,
        "verdict": None,
        "note": "",
        "shortfall": [],
    }
    if row["is_control"]:
        row["note"] = "" if legacy.exposures else _("No exposures yet.")
        return row
    control_totals = control[1]
    cuped = experiment.cuped_window_days > 0 and any(
        t.get("pre_conversions", 0) for t in (control_totals, totals)
    )
    a, b = _sample(control_totals), _sample(totals)
    relative = _estimate(a, b, experiment, relative=True, cuped=cuped)
    absolute = _estimate(a, b, experiment, relative=False, cuped=cuped)
    shortfall = _shortfall(experiment, [(control[0].name, control_totals), (variant.name, totals)])
    row.update(
        uplift=relative.point,
        ci_low=relative.ci_low,
        ci_high=relative.ci_high,
        abs_uplift=absolute.point,
        abs_ci_low=absolute.ci_low,
        abs_ci_high=absolute.ci_high,
        p_value=relative.p_value,
        chance_to_beat_control=legacy.chance_to_beat_control,
        cuped=cuped,
        ready=not shortfall and relative.p_value is not None,
        shortfall=shortfall,
    )
    return row


def _table(
    experiment: Experiment,
    variants: list[Variant],
    goal: Goal,
    totals: dict[tuple, dict],
    segment_id: int | None,
) -> dict:
    """The results table of one goal, overall (segment_id None) or for one segment."""
    per_variant = [totals.get((goal.pk, segment_id, v.pk), {}) for v in variants]
    analysis = analyse([_input(v, t) for v, t in zip(variants, per_variant, strict=True)])
    control = (variants[0], per_variant[0])
    rows = [
        _row(experiment, v, t, control, legacy)
        for v, t, legacy in zip(variants, per_variant, analysis.variants, strict=True)
    ]
    return {
        "goal": {"id": goal.pk, "name": goal.name, "primary": goal.is_primary},
        "segment_id": segment_id,
        "variants": rows,
        "srm": dataclasses.asdict(analysis.srm),
    }


# THE FAMILY: ADJUSTED P-VALUES, VERDICTS AND NOTES
# ------------------------------------------------------------------------------


def _adjust(experiment: Experiment, tables: list[dict]) -> int:
    """Adjust every comparison's p-value over the whole report; the family's size."""
    rows = [row for table in tables for row in table["variants"] if not row["is_control"]]
    adjusted = adjust_p_values([row["p_value"] for row in rows], experiment.correction)
    for row, value in zip(rows, adjusted, strict=True):
        row["adjusted_p_value"] = value
    return sum(1 for row in rows if row["p_value"] is not None)


def _judge(experiment: Experiment, row: dict, family: int) -> None:
    """The row's verdict and a note saying the same thing in words."""
    if row["is_control"]:
        return
    if row["exposures"] == 0:
        row["verdict"], row["note"] = Verdict.COLLECTING, _("No exposures yet.")
        return
    if row["shortfall"]:
        row["verdict"] = Verdict.COLLECTING
        row["note"] = _("Collecting data: %(reasons)s.") % {"reasons": "; ".join(row["shortfall"])}
        return
    if row["adjusted_p_value"] is None:
        row["verdict"] = Verdict.COLLECTING
        row["note"] = _("No result yet: a variant has no variation (all or no conversions).")
        return
    if row["adjusted_p_value"] < experiment.alpha:
        better = (row["uplift"] or 0) > 0
        row["verdict"] = Verdict.BETTER if better else Verdict.WORSE
        row["note"] = " ".join(
            [
                _("Better than control.") if better else _("Worse than control."),
                _corrected(family),
            ]
        )
        return
    row["verdict"] = Verdict.NO_DIFFERENCE
    if row["p_value"] < experiment.alpha:
        row["note"] = _(
            "No detectable difference once the other comparisons are accounted for (on its "
            "own, p = %(p).3f)."
        ) % {"p": row["p_value"]}
    else:
        row["note"] = _("No detectable difference so far.")


def _corrected(family: int) -> str:
    return ngettext(
        "Significant (the only comparison in this report).",
        "Significant after correcting for the %(n)d comparisons in this report.",
        family,
    ) % {"n": family}


# THE BANNER
# ------------------------------------------------------------------------------


def _progress(experiment: Experiment, table: dict) -> dict:
    exposures = [row["exposures"] for row in table["variants"]]
    conversions = [row["conversions"] for row in table["variants"]]
    progress = {
        "exposures": sum(exposures),
        "fewest_conversions": min(conversions, default=0),
        "conversions_needed": MIN_EVENTS_PER_ARM,
        "planned_per_variant": None,
        "fewest_exposures": min(exposures, default=0),
        "share_of_plan": None,
    }
    if not experiment.sequential and experiment.planned_sample_size:
        progress["planned_per_variant"] = experiment.planned_sample_size
        share = progress["fewest_exposures"] / experiment.planned_sample_size
        progress["share_of_plan"] = min(share, 1.0)
    return progress


def _verdict(experiment: Experiment, table: dict | None) -> dict:
    """The banner: collecting data / a variant is better or worse / no detectable difference /
    sample ratio mismatch, on the primary goal overall."""
    rows = table["variants"] if table else []
    verdict = {
        "state": Verdict.COLLECTING,
        "goal": table["goal"]["name"] if table else None,
        "variant": None,
        "uplift": None,
        "ci": None,
        "adjusted_p_value": None,
        "srm_p_value": table["srm"]["p_value"] if table else None,
        "progress": None,
    }
    if table is not None:
        verdict["progress"] = _progress(experiment, table)
    if not any(row["exposures"] for row in rows):
        draft = experiment.status == ExperimentStatus.DRAFT
        verdict["state"] = Verdict.NOT_STARTED if draft else Verdict.COLLECTING
        return _worded(verdict)
    if table["srm"]["mismatch"]:
        verdict["state"] = Verdict.SRM
        return _worded(verdict)
    compared = [row for row in rows if not row["is_control"]]
    if any(row["verdict"] == Verdict.COLLECTING for row in compared):
        return _worded(verdict)
    for state in Verdict.CONCLUSIVE:
        found = [row for row in compared if row["verdict"] == state]
        if found:
            pick = max if state == Verdict.BETTER else min
            best = pick(found, key=lambda row: row["uplift"])
            verdict.update(
                state=state,
                variant=best["name"],
                uplift=best["uplift"],
                ci=[best["ci_low"], best["ci_high"]],
                adjusted_p_value=best["adjusted_p_value"],
            )
            return _worded(verdict)
    verdict["state"] = Verdict.NO_DIFFERENCE
    return _worded(verdict)


def _worded(verdict: dict) -> dict:
    """The banner's headline, and whether acting on it is safe."""
    state, name = verdict["state"], verdict["variant"]
    headlines = {
        Verdict.NOT_STARTED: _("Not started: no data yet."),
        Verdict.COLLECTING: _("Collecting data: not enough data for a verdict yet."),
        Verdict.SRM: _("Sample ratio mismatch: don't trust these results."),
        Verdict.BETTER: _("“%(name)s” is better than control on the primary goal."),
        Verdict.WORSE: _("“%(name)s” is worse than control on the primary goal."),
        Verdict.NO_DIFFERENCE: _("No detectable difference on the primary goal."),
    }
    verdict["headline"] = headlines[state] % {"name": name} if name else headlines[state]
    verdict["conclusive"] = state in Verdict.CONCLUSIVE
    return verdict


# THE REPORT
# ------------------------------------------------------------------------------


def primary_goal(experiment: Experiment) -> Goal | None:
    """The primary goal; else the first goal that is not a guardrail (never a guardrail)."""
    goals = [g for g in experiment.goals.all() if not g.is_guardrail]
    return next((g for g in goals if g.is_primary), goals[0] if goals else None)


def _run(experiment: Experiment, exposures: int, now: datetime | None) -> dict:
    """How long the experiment has run (until `now`, default: this moment) and how many
    visitors it sees a day."""
    now = now or timezone.now()
    if experiment.started_at is None:
        return {"days": None, "exposures": exposures, "exposures_per_day": None}
    end = min(experiment.stopped_at or now, now)
    days = max((end - experiment.started_at).total_seconds() / 86400, 0.0)
    per_day = exposures / max(days, 1.0)
    return {"days": round(days, 2), "exposures": exposures, "exposures_per_day": round(per_day, 1)}


def _segment_names(segment_ids: set[int]) -> dict[int, str]:
    names = dict(Segment.objects.filter(pk__in=segment_ids).values_list("pk", "name"))
    return {sid: names.get(sid, _("Segment %(id)s (deleted)") % {"id": sid}) for sid in segment_ids}


def experiment_report(*, experiment: Experiment, now: datetime | None = None) -> dict:
    """Everything the report, the CSV and the results API show: every goal overall, the primary
    goal per segment-at-exposure, adjusted p-values over all of them, the verdict banner, the
    run length and the cumulative conversion-rate series; and, apart from all that (out of the
    family, never in the verdict), the guardrail goals' one-sided tests for harm."""
    every_goal = list(experiment.goals.all())
    goals = [g for g in every_goal if not g.is_guardrail]
    # a bandit's sample-ratio check compares with the weights in force over time
    variants = with_bandit_weights(experiment=experiment, variants=_variants(experiment))
    primary = primary_goal(experiment)
    overall = _totals(DailyAggregate.objects.filter(experiment=experiment))
    segmented = _totals(SegmentAggregate.objects.filter(experiment=experiment, goal=primary))
    segment_ids = {key[1] for key in segmented}
    names = _segment_names(segment_ids)
    tables = [_table(experiment, variants, g, overall, None) for g in goals] if variants else []
    segments = []
    if variants and primary is not None:
        for sid in sorted(segment_ids, key=lambda s: (names[s].lower(), s)):
            table = _table(experiment, variants, primary, segmented, sid)
            segments.append({"id": sid, "name": names[sid], **table})
    family = _adjust(experiment, [*tables, *segments])
    for table in [*tables, *segments]:
        for row in table["variants"]:
            _judge(experiment, row, family)
            del row["shortfall"]
    primary_table = next((t for t in tables if primary and t["goal"]["id"] == primary.pk), None)
    exposures = sum(r["exposures"] for r in primary_table["variants"]) if primary_table else 0
    snapshot = getattr(experiment, "snapshot", None)
    return {
        "experiment": _experiment_summary(experiment),
        "computed_at": api_datetime(snapshot.computed_at) if snapshot else None,
        "verdict": _verdict(experiment, primary_table),
        # as of the last count, which the exposures per day come from
        "run": _run(experiment, exposures, now or (snapshot.computed_at if snapshot else None)),
        "correction": {
            "method": experiment.correction,
            "name": str(CORRECTION_NAMES[experiment.correction]),
            "comparisons": family,
        },
        "goals": tables,
        "segments": segments,
        "series": cumulative_series(experiment=experiment),
        "guardrails": guardrail_results(
            experiment=experiment,
            goals=[g for g in every_goal if g.is_guardrail],
            variants=variants,
            totals=overall,
        ),
        "bandit": bandit_summary(experiment=experiment),
    }


def _experiment_summary(experiment: Experiment) -> dict:
    return {
        "key": experiment.key,
        "name": experiment.name,
        "status": experiment.status,
        "analysis": experiment.analysis,
        "alpha": experiment.alpha,
        "planned_sample_size": experiment.planned_sample_size,
        "cuped_window_days": experiment.cuped_window_days,
        "started_at": api_datetime(experiment.started_at),
        "stopped_at": api_datetime(experiment.stopped_at),
        "winner": experiment.winner.name if experiment.winner_id else None,
        "allocation": experiment.allocation,
        "layer": (
            {
                "key": experiment.layer.key,
                "name": experiment.layer.name,
                "start": experiment.namespace_start,
                "end": experiment.namespace_end,
            }
            if experiment.layer_id
            else None
        ),
    }


def experiment_results(
    *, experiment: Experiment, goal: Goal | None = None, segment_id: int | None = None
) -> dict:
    """One table of the report (a goal overall, or the primary goal in one segment), with the
    p-values adjusted over the whole report."""
    report = experiment_report(experiment=experiment)
    goal = goal or primary_goal(experiment)
    if goal is not None and goal.is_guardrail and segment_id is None:
        guardrails = report["guardrails"]
        table = next((t for t in guardrails["goals"] if t["goal"]["id"] == goal.pk), None)
        if table is not None:
            return {**table, "correction": guardrails["correction"]}
    tables = report["goals"] if segment_id is None else report["segments"]
    for table in tables:
        same_goal = goal is not None and table["goal"]["id"] == goal.pk
        if same_goal and (segment_id is None or table["segment_id"] == segment_id):
            return {**table, "correction": report["correction"]}
    return {"goal": None, "segment_id": segment_id, "variants": [], "srm": None}


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
