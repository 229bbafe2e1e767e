"""The "Is personalization working?" report: per holdout (per segment, or the global one), the
lift of the personalized content over the default on each of its goals, from the same aggregates
and the same sequential comparison as any experiment's report (`experiment_report`).

One family for the whole page: every comparison it shows (holdouts × goals, and the global
holdout's primary goal per segment-at-exposure) is adjusted together, by Holm unless asked for
Benjamini-Hochberg, so a page of many segments does not find "working" personalization by
chance. Shared by the admin view and the staff API. See docs/statistics.md.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _

from experiments.chart import percent
from experiments.holdouts import DEFAULT_ARM, PERSONALIZED_ARM
from experiments.models import Correction, Experiment, ExperimentKind, ExperimentStatus
from experiments.selectors import CORRECTION_NAMES, Verdict, experiment_report
from experiments.stats import adjust_p_values

FIGURES = ("exposures", "conversions", "rate")
COMPARED = ("uplift", "ci_low", "ci_high", "abs_uplift", "p_value", "chance_to_beat_control")


def holdouts() -> list[Experiment]:
    """Every holdout, the global one first, then by segment name."""
    return list(
        Experiment.objects.filter(kind=ExperimentKind.HOLDOUT)
        .select_related("holdout_segment", "snapshot", "winner")
        .prefetch_related("variants", "goals")
        .annotate(
            is_segment=Case(
                When(holdout_segment__isnull=True, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("is_segment", "holdout_segment__name", "pk")
    )


def _arm(rows: list[dict], name: str) -> dict:
    """The figures of one arm ("default" or "personalized") of a report table."""
    row = next((r for r in rows if r["name"] == name), None) or {}
    return {f: row.get(f) or 0 for f in FIGURES}


def _comparison(table: dict, *, label: str, segment_id: int | None = None) -> dict:
    """One line of the report: personalized against default on one goal (and segment)."""
    rows = table["variants"]
    personalized = next((r for r in rows if not r["is_control"]), None) or {}
    return {
        "goal": table["goal"],
        "label": label,
        "segment_id": segment_id,
        "default": _arm(rows, DEFAULT_ARM),
        "personalized": _arm(rows, PERSONALIZED_ARM),
        **{f: personalized.get(f) for f in COMPARED},
        "cuped": bool(personalized.get("cuped")),
        "adjusted_p_value": None,
        "srm": table.get("srm") or {},
        # experiment_report's own judgement says whether there is enough data to judge at all
        "collecting": personalized.get("verdict") in (None, Verdict.COLLECTING),
        "collecting_note": personalized.get("note") or "",
        "verdict": None,
        "note": "",
    }


def _judge(line: dict, alpha: float) -> None:
    """The line's verdict on the page's own family (adjusted p-value against alpha)."""
    if line["collecting"] or line["adjusted_p_value"] is None:
        line["verdict"] = Verdict.COLLECTING
        line["note"] = line["collecting_note"] or _("Collecting data.")
    elif line["srm"].get("mismatch"):
        line["verdict"] = Verdict.SRM
        line["note"] = _("Sample ratio mismatch: the split does not match the share.")
    elif line["adjusted_p_value"] < alpha:
        better = (line["uplift"] or 0) > 0
        line["verdict"] = Verdict.BETTER if better else Verdict.WORSE
        line["note"] = (
            _("Personalized content does better.")
            if better
            else _("The default content does better.")
        )
    else:
        line["verdict"] = Verdict.NO_DIFFERENCE
        line["note"] = _("No detectable difference so far.")
    del line["collecting"], line["collecting_note"]


def _headline(entry: dict) -> dict:
    """The holdout's plain verdict, on its primary goal."""
    primary = next((line for line in entry["lines"] if line["goal"]["primary"]), None)
    exposures = sum(entry["exposures"].values())
    if primary is None or exposures == 0:
        draft = entry["holdout"]["status"] == ExperimentStatus.DRAFT
        state = Verdict.NOT_STARTED if draft else Verdict.COLLECTING
    else:
        state = primary["verdict"]
    words = {
        Verdict.NOT_STARTED: _("Not started: no visitor is held out yet."),
        Verdict.COLLECTING: _("Collecting data: too early to tell."),
        Verdict.SRM: _("Sample ratio mismatch: don't trust these figures."),
        Verdict.BETTER: _("Personalization works: %(lift)s on %(goal)s."),
        Verdict.WORSE: _("Personalization hurts: the default content does %(lift)s on %(goal)s."),
        Verdict.NO_DIFFERENCE: _("No detectable effect of personalization on %(goal)s so far."),
    }
    lift = primary["uplift"] if primary else None
    if state == Verdict.WORSE and lift is not None:
        lift = -lift  # said from the default content's side
    values = {
        "lift": percent(lift, signed=True),
        "goal": primary["goal"]["name"] if primary else "",
    }
    return {
        "state": state,
        "headline": words[state] % values,
        "conclusive": state in Verdict.CONCLUSIVE,
    }


def _entry(experiment: Experiment, now: datetime | None) -> dict:
    """One holdout: its figures per goal (and, for the global one, per segment)."""
    report = experiment_report(experiment=experiment, now=now)
    segment = experiment.holdout_segment
    share = next((v.weight for v in experiment.variants.all() if v.name == DEFAULT_ARM), None)
    lines = [_comparison(t, label=t["goal"]["name"]) for t in report["goals"]]
    if segment is None:
        lines += [
            _comparison(t, label=f"{t['goal']['name']} · {t['name']}", segment_id=t["id"])
            for t in report["segments"]
        ]
    primary = next((t for t in report["goals"] if t["goal"]["primary"]), None)
    return {
        "holdout": {
            "id": experiment.pk,
            "key": experiment.key,
            "name": experiment.name,
            "status": experiment.status,
            "segment": (
                {"id": segment.pk, "name": segment.name, "slug": segment.slug}
                if segment is not None
                else None
            ),
            "share": share,
            "alpha": experiment.alpha,
            "started_at": report["experiment"]["started_at"],
            "stopped_at": report["experiment"]["stopped_at"],
        },
        "exposures": {
            arm: _arm(primary["variants"], arm)["exposures"] if primary else 0
            for arm in (DEFAULT_ARM, PERSONALIZED_ARM)
        },
        "run": report["run"],
        "computed_at": report["computed_at"],
        "lines": lines,
    }


def holdout_report(*, correction: str = Correction.HOLM, now: datetime | None = None) -> dict:
    """Every holdout with its lines and verdict; p-values adjusted over the whole page."""
    if correction not in CORRECTION_NAMES:
        raise ValueError(f"Unknown correction {correction!r}")
    entries = [_entry(experiment, now) for experiment in holdouts()]
    lines = [line for entry in entries for line in entry["lines"]]
    adjusted = adjust_p_values([line["p_value"] for line in lines], correction)
    for line, value in zip(lines, adjusted, strict=True):
        line["adjusted_p_value"] = value
    for entry in entries:
        for line in entry["lines"]:
            _judge(line, entry["holdout"]["alpha"])
        entry["verdict"] = _headline(entry)
    return {
        "correction": {
            "method": correction,
            "name": str(CORRECTION_NAMES[correction]),
            "comparisons": sum(1 for line in lines if line["p_value"] is not None),
        },
        "holdouts": entries,
    }
