"""Guardrail goals: metrics a variant must not harm (unsubscribes, removals from the cart, ...).

Two halves, both from the aggregates the `reports` job keeps (no event scans):

- `guardrail_results` (a read): per guardrail goal and variant, the one-sided test for harm
  (`experiments.stats.harm`), the p-values adjusted by Holm over the guardrail comparisons alone
  (never mixed into the primary goals' family), and the harms found. The report, its CSV and the
  results API show it (`experiments.selectors.experiment_report`).
- `guardrails_check` (a write, run by the hourly `experiments.jobs.check_guardrails`): a
  `GuardrailAlert` per new harm, the experiment paused when it asks for that, and its owner told
  once by e-mail.

Guardrails are always tested sequentially: the job looks every hour whatever the experiment's
analysis, and only an always-valid test keeps its error rate under such watching. See
docs/statistics.md, "Guardrails".
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.users.models import UserProfile

from experiments.models import (
    DailyAggregate,
    Experiment,
    ExperimentStatus,
    Goal,
    GuardrailAlert,
    HarmDirection,
    Variant,
)
from experiments.registry import bump_registry
from experiments.stats import Sample, adjust_p_values, compare, harm
from personalization.api.datetimes import api_datetime

logger = logging.getLogger(__name__)

SUMMED = ("exposures", "conversions", "value_sum", "pre_conversions", "pre_post_conversions")
GUARDRAIL_CORRECTION = "holm"


class GuardrailVerdict:
    """A guardrail row's state."""

    COLLECTING = "collecting"
    HARM = "harm"
    NO_HARM = "no_harm"


# THE READ: ONE-SIDED TESTS FOR HARM, HOLM OVER THE GUARDRAIL COMPARISONS
# ------------------------------------------------------------------------------


def _totals(experiment: Experiment, goals: list[Goal]) -> dict[tuple, dict]:
    """(goal id, None, variant id) → summed aggregates (the selectors' key), one GROUP BY."""
    rows = (
        DailyAggregate.objects.filter(experiment=experiment, goal__in=goals)
        .values("goal_id", "variant_id")
        .annotate(**{f"t_{f}": Sum(f) for f in SUMMED})
    )
    return {
        (row["goal_id"], None, row["variant_id"]): {f: row[f"t_{f}"] or 0 for f in SUMMED}
        for row in rows
    }


def _sample(totals: dict) -> Sample:
    return Sample(
        n=int(totals.get("exposures", 0)),
        sum=float(totals.get("conversions", 0)),
        pre_sum=float(totals.get("pre_conversions", 0)),
        post_pre_sum_products=float(totals.get("pre_post_conversions", 0)),
    )


def _blank_row(variant: Variant, totals: dict, is_control: bool) -> dict:
    """A row with every field of a results row (the API's shape), comparison fields None."""
    exposures, conversions = int(totals.get("exposures", 0)), int(totals.get("conversions", 0))
    value_sum = float(totals.get("value_sum", 0))
    return {
        "name": variant.name,
        "is_control": is_control,
        "exposures": exposures,
        "conversions": conversions,
        "rate": conversions / exposures if exposures else None,
        "revenue_per_visitor": value_sum / exposures if exposures and value_sum else None,
        "uplift": None,
        "ci_low": None,
        "ci_high": None,
        "abs_uplift": None,
        "abs_ci_low": None,
        "abs_ci_high": None,
        "bound": None,
        "p_value": None,
        "adjusted_p_value": None,
        "chance_to_beat_control": None,
        "cuped": False,
        "ready": False,
        "verdict": None,
        "harmful": False,
        "note": "" if exposures or not is_control else _("No exposures yet."),
    }


def _compared_row(experiment: Experiment, goal: Goal, row: dict, control: dict, totals: dict):
    """Fill the row's one-sided test for harm against the control (absolute difference, tested
    sequentially; the relative change shown beside it)."""
    cuped = experiment.cuped_window_days > 0 and any(
        t.get("pre_conversions", 0) for t in (control, totals)
    )
    a, b = _sample(control), _sample(totals)
    try:
        test = harm(a, b, direction=goal.harm_direction, alpha=experiment.alpha, cuped=cuped)
        relative = compare(a, b, relative=True, sequential=True, cuped=cuped)
    except ValueError:
        logger.warning("Experiment %s: aggregates not comparable", experiment.key, exc_info=True)
        return
    increase = goal.harm_direction == HarmDirection.INCREASE
    row.update(
        uplift=relative.point,
        abs_uplift=test.point,
        # the one-sided interval: from the bound towards harm, open on the other side
        abs_ci_low=test.bound if increase else None,
        abs_ci_high=None if increase else test.bound,
        bound=test.bound,
        p_value=test.p_value,
        cuped=cuped,
        ready=test.p_value is not None,
    )


def _table(experiment: Experiment, goal: Goal, variants: list[Variant], totals: dict) -> dict:
    per_variant = [totals.get((goal.pk, None, v.pk), {}) for v in variants]
    rows = []
    for index, (variant, sums) in enumerate(zip(variants, per_variant, strict=True)):
        row = _blank_row(variant, sums, is_control=index == 0)
        if index > 0 and row["exposures"]:
            _compared_row(experiment, goal, row, per_variant[0], sums)
        rows.append(row)
    return {
        "goal": {
            "id": goal.pk,
            "name": goal.name,
            "primary": False,
            "harm_direction": goal.harm_direction,
        },
        "segment_id": None,
        "variants": rows,
        "srm": None,
    }


def _judge(experiment: Experiment, row: dict, family: int) -> None:
    """The row's state and a note in words; harm needs the Holm-adjusted p-value below alpha."""
    if row["is_control"]:
        return
    if not row["exposures"]:
        row["verdict"], row["note"] = GuardrailVerdict.COLLECTING, _("No exposures yet.")
        return
    if row["adjusted_p_value"] is None:
        row["verdict"] = GuardrailVerdict.COLLECTING
        row["note"] = _("Not testable yet: no variation in either variant (no conversions).")
        return
    if row["adjusted_p_value"] < experiment.alpha:
        row["verdict"], row["harmful"] = GuardrailVerdict.HARM, True
        row["note"] = ngettext(
            "Significant harm (one-sided test; the only guardrail comparison).",
            "Significant harm (one-sided test, Holm-adjusted over %(n)d guardrail comparisons).",
            family,
        ) % {"n": family}
        return
    row["verdict"] = GuardrailVerdict.NO_HARM
    row["note"] = _("No significant harm so far.")


def _harm_summary(table: dict, row: dict, control: dict) -> dict:
    """One harm for the banner, the alert and the e-mail."""
    return {
        "goal_id": table["goal"]["id"],
        "goal": table["goal"]["name"],
        "harm_direction": table["goal"]["harm_direction"],
        "variant": row["name"],
        "control_rate": control["rate"],
        "rate": row["rate"],
        "uplift": row["uplift"],
        "abs_uplift": row["abs_uplift"],
        "bound": row["bound"],
        "p_value": row["p_value"],
        "adjusted_p_value": row["adjusted_p_value"],
    }


def _alerts(experiment: Experiment, goals: list[Goal], variants: list[Variant]) -> list[dict]:
    goal_names = {g.pk: g.name for g in goals}
    variant_names = {v.pk: v.name for v in variants}
    alerts = GuardrailAlert.objects.filter(experiment=experiment).order_by("detected_at", "pk")
    return [
        {
            "goal": goal_names.get(alert.goal_id, str(alert.goal_id)),
            "variant": variant_names.get(alert.variant_id, str(alert.variant_id)),
            "detected_at": api_datetime(alert.detected_at),
            "p_value": alert.p_value,
            "uplift": alert.uplift,
            "paused": alert.paused,
            "notified_at": api_datetime(alert.notified_at),
        }
        for alert in alerts
    ]


def guardrail_results(
    *,
    experiment: Experiment,
    goals: list[Goal] | None = None,
    variants: list[Variant] | None = None,
    totals: dict[tuple, dict] | None = None,
) -> dict:
    """Per guardrail goal, each variant's one-sided test for harm against the control, the
    p-values adjusted (Holm) over the guardrail comparisons, the harms found and the alerts
    recorded. `goals` (the guardrails), `variants` and `totals` (the summed aggregates): what
    the report has already loaded, so nothing is read twice."""
    if goals is None:
        goals = [g for g in experiment.goals.all() if g.is_guardrail]
    if variants is None:
        variants = sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))
    results = {
        "alpha": experiment.alpha,
        "correction": {"method": GUARDRAIL_CORRECTION, "name": _("Holm"), "comparisons": 0},
        "goals": [],
        "harm": [],
        "alerts": [],
    }
    if not goals or len(variants) < 2:
        return results
    if totals is None:
        totals = _totals(experiment, goals)
    tables = [_table(experiment, g, variants, totals) for g in goals]
    rows = [row for table in tables for row in table["variants"] if not row["is_control"]]
    adjusted = adjust_p_values([row["p_value"] for row in rows], GUARDRAIL_CORRECTION)
    for row, value in zip(rows, adjusted, strict=True):
        row["adjusted_p_value"] = value
    family = sum(1 for row in rows if row["p_value"] is not None)
    for row in rows:
        _judge(experiment, row, family)
    results["correction"]["comparisons"] = family
    results["goals"] = tables
    results["harm"] = [
        _harm_summary(table, row, table["variants"][0])
        for table in tables
        for row in table["variants"]
        if row["harmful"]
    ]
    results["alerts"] = _alerts(experiment, goals, variants)
    return results


# THE CHECK: ALERTS, PAUSE, ONE E-MAIL TO THE OWNER
# ------------------------------------------------------------------------------


def guardrails_check(*, experiment: Experiment, now: datetime | None = None) -> list:
    """Record a `GuardrailAlert` for every harm not recorded before, pause the experiment when
    it has `pause_on_harm` (and is running), and e-mail its owner about alerts not yet told.
    Idempotent: a second run with the same data records and sends nothing. The new alerts."""
    results = guardrail_results(experiment=experiment)
    created = _record(experiment=experiment, harms=results["harm"], now=now or timezone.now())
    alerts_notify(experiment=experiment, now=now)
    return created


@transaction.atomic
def _record(*, experiment: Experiment, harms: list[dict], now: datetime) -> list[GuardrailAlert]:
    """The new alerts, and the pause, in one transaction (the experiment row locked, so two
    checks at once cannot both record)."""
    locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
    known = set(
        GuardrailAlert.objects.filter(experiment=locked).values_list("goal_id", "variant_id")
    )
    variant_ids = dict(locked.variants.values_list("name", "pk"))
    new = [
        GuardrailAlert(
            experiment=locked,
            goal_id=h["goal_id"],
            variant_id=variant_ids[h["variant"]],
            detected_at=now,
            p_value=h["adjusted_p_value"],
            # relative change; when the control had no conversions (no relative change), the
            # difference of rates
            uplift=h["uplift"] if h["uplift"] is not None else h["abs_uplift"],
        )
        for h in harms
        if (h["goal_id"], variant_ids[h["variant"]]) not in known
    ]
    if not new:
        return []
    pause = locked.pause_on_harm and locked.status == ExperimentStatus.RUNNING
    if pause:
        locked.pause()
        bump_registry()
        transaction.on_commit(bump_registry)
        experiment.status = locked.status
    for alert in new:
        alert.paused = pause
    GuardrailAlert.objects.bulk_create(new)
    logger.warning(
        "Experiment %s: guardrail harm on goals %s%s",
        locked.key,
        ", ".join(f"{a.goal_id} (variant {a.variant_id})" for a in new),
        ", paused" if pause else "",
    )
    return new


def alerts_notify(*, experiment: Experiment, now: datetime | None = None) -> int:
    """E-mail the experiment's owner about its alerts not yet told, once (the alerts stay
    locked while the message is sent, then are marked). Without an owner with an e-mail
    address nobody is told and the alerts wait for one. The number of alerts told."""
    owner = experiment.owner if experiment.owner_id else None
    if owner is None or not owner.email:
        return 0
    with transaction.atomic():
        pending = list(
            GuardrailAlert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(experiment=experiment, notified_at__isnull=True)
            .select_related("goal", "variant")
            .order_by("detected_at", "pk")
        )
        if not pending:
            return 0
        _message(experiment, owner, pending).send()
        GuardrailAlert.objects.filter(pk__in=[a.pk for a in pending]).update(
            notified_at=now or timezone.now()
        )
    return len(pending)


def report_url(experiment: Experiment) -> str:
    path = reverse("experiments_experiment:report", args=[experiment.pk])
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}{path}"


def _language(user) -> str:
    """The owner's admin language (Wagtail's account setting), else the site's."""
    return UserProfile.get_for_user(user).get_preferred_language() or settings.LANGUAGE_CODE


def _message(experiment: Experiment, owner, alerts: list[GuardrailAlert]) -> EmailMessage:
    """The alert e-mail, in the owner's language."""
    with translation.override(_language(owner)):
        subject = _("Guardrail alert: “%(name)s” shows harm") % {"name": experiment.name}
        body = render_to_string(
            "experiments/email/guardrail_alert.txt",
            {
                "experiment": experiment,
                "owner": owner,
                "alerts": [
                    {
                        "variant": a.variant.name,
                        "goal": a.goal.name,
                        "direction": a.goal.get_harm_direction_display(),
                        "uplift": f"{a.uplift * 100:+.1f} %",
                        "p_value": "< 0.001" if a.p_value < 0.001 else f"{a.p_value:.3f}",
                        "paused": a.paused,
                    }
                    for a in alerts
                ],
                "paused": any(a.paused for a in alerts),
                "report_url": report_url(experiment),
            },
        )
    return EmailMessage(subject=subject, body=body, to=[owner.email])
