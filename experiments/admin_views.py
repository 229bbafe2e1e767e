"""The experiment report (verdict banner, forest plots, per-segment tabs, CSV) and its actions:
start, pause, refresh, and — each after a confirmation page that shows the current verdict —
declare a winner or stop and roll back."""

from __future__ import annotations

import copy
import csv
from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages as admin_messages
from wagtail.admin.widgets.button import HeaderButton
from wagtail.models import Page

from config.jobs import enqueue
from experiments.allocation_form import slice_label
from experiments.chart import (
    cumulative_rate_svg,
    forest_axis,
    forest_scale,
    percent,
    uplift_bar_svg,
    weight_history_svg,
)
from experiments.jobs import snapshot_aggregates
from experiments.models import AnalysisMethod, Experiment, ExperimentKind, TransitionError, Variant
from experiments.selectors import Verdict, experiment_report
from experiments.signals import experiment_completed
from experiments.usage import experiment_start, pages_using, start_problems
from personalization.templatetags.admin_format import admin_datetime

CSV_COLUMNS = [
    "exposures",
    "conversions",
    "rate",
    "uplift",
    "ci_low",
    "ci_high",
    "abs_uplift",
    "abs_ci_low",
    "abs_ci_high",
    "p_value",
    "adjusted_p_value",
    "correction",
    "chance_to_beat_control",
    "revenue_per_visitor",
    "cuped",
    "verdict",
    "note",
    "guardrail",
]


def _experiment(pk: int) -> Experiment:
    return get_object_or_404(
        Experiment.objects.select_related("winner", "snapshot", "layer").prefetch_related(
            "variants", "goals"
        ),
        pk=pk,
    )


def _breadcrumbs(experiment: Experiment, *last: dict) -> list[dict]:
    return [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {"url": reverse("experiments_experiment:list"), "label": _("Experiments")},
        {"url": reverse("experiments_experiment:edit", args=[experiment.pk]), "label": experiment},
        *last,
    ]


# PRESENTATION: THE REPORT'S NUMBERS AS A MARKETER READS THEM
# ------------------------------------------------------------------------------


def _present_row(row: dict, scale: tuple[float, float], alpha: float) -> dict:
    row["display"] = {
        "rate": percent(row["rate"], 2),
        "uplift": percent(row["uplift"], signed=True),
        "interval": _interval(row["ci_low"], row["ci_high"]) if row["ci_low"] is not None else "",
        "chance": percent(row["chance_to_beat_control"], 0),
        "p_value": _p(row["p_value"]),
        "adjusted_p_value": _p(row["adjusted_p_value"]),
        "revenue": (
            f"¥{row['revenue_per_visitor']:,.0f}" if row["revenue_per_visitor"] is not None else "—"
        ),
        "bar": uplift_bar_svg(row, scale) if not row["is_control"] else "",
    }
    return row


def _interval(low: float | None, high: float | None) -> str:
    return f"{percent(low, signed=True)} {_('to')} {percent(high, signed=True)}"


def _p_statement(value: float | None) -> str:
    """ "p < 0.001" or "p = 0.012"."""
    shown = _p(value)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _present_table(table: dict, alpha: float) -> dict:
    scale = forest_scale([r for r in table["variants"] if not r["is_control"]])
    table["axis"] = forest_axis(scale)
    table["has_revenue"] = any(r["revenue_per_visitor"] for r in table["variants"])
    for row in table["variants"]:
        _present_row(row, scale, alpha)
    return table


def _present_run(run: dict) -> str:
    days = run["days"]
    if days is None:
        return _("Not started")
    if days < 1:
        length = _("%(hours)d hours") % {"hours": round(days * 24)}
    else:
        length = _("%(days).1f days") % {"days": days}
    return _("%(length)s · %(per_day)s exposures a day") % {
        "length": length,
        "per_day": f"{run['exposures_per_day']:,.0f}",
    }


def presented(report: dict, experiment: Experiment) -> dict:
    """A copy of the report with display strings and bars for the templates."""
    report = copy.deepcopy(report)
    for table in [*report["goals"], *report["segments"]]:
        _present_table(table, experiment.alpha)
    verdict = report["verdict"]
    low, high = verdict["ci"] or (None, None)
    verdict["display"] = {
        "uplift": percent(verdict["uplift"], signed=True),
        "interval": _interval(low, high),
        "adjusted_p_value": _p(verdict["adjusted_p_value"]),
        "srm_p": _p_statement(verdict["srm_p_value"]),
    }
    progress = verdict.get("progress") or {}
    if progress.get("share_of_plan") is not None:
        progress["percent"] = round(progress["share_of_plan"] * 100)
    report["run"]["display"] = _present_run(report["run"])
    _present_guardrails(report["guardrails"])
    _present_allocation(report)
    return report


def _points(value: float | None) -> str:
    """A difference of rates in percentage points: 0.0123 → "+1.23 pp"."""
    if value is None:
        return "—"
    return f"{'−' if value < 0 else '+'}{abs(value) * 100:,.2f} pp"


def _present_guardrails(guardrails: dict) -> None:
    """Display strings of the guardrail tables and of the harms the red banner names."""
    for table in guardrails["goals"]:
        for row in table["variants"]:
            row["display"] = {
                "rate": percent(row["rate"], 2),
                "uplift": percent(row["uplift"], signed=True),
                "abs_uplift": _points(row["abs_uplift"]),
                "bound": _points(row["bound"]),
                "p_value": _p(row["p_value"]),
                "adjusted_p_value": _p(row["adjusted_p_value"]),
            }
    for harm in guardrails["harm"]:
        harm["display"] = {
            "control_rate": percent(harm["control_rate"], 2),
            "rate": percent(harm["rate"], 2),
            "change": (
                percent(harm["uplift"], signed=True)
                if harm["uplift"] is not None
                else _points(harm["abs_uplift"])
            ),
            "adjusted_p_value": _p_statement(harm["adjusted_p_value"]),
        }
    for alert in guardrails["alerts"]:
        alert["detected"] = datetime.fromisoformat(alert["detected_at"])
    paused = [alert["detected"] for alert in guardrails["alerts"] if alert["paused"]]
    guardrails["paused_by_check"] = paused[0] if paused else None


def _present_allocation(report: dict) -> None:
    """The layer slice as percentages; a bandit's weights, chances and history for its
    section (chart, table) with times in the site's time zone."""
    layer = report["experiment"].get("layer")
    if layer is not None:
        layer["slice"] = slice_label(layer["start"], layer["end"])
    bandit = report.get("bandit")
    if bandit is None:
        return
    names = list(bandit["weights"])
    chances = bandit["chance_to_be_best"] or {}
    bandit["arms"] = [
        {
            "name": name,
            "weight": percent(bandit["weights"][name]),
            "chance": percent(chances.get(name), 0),
        }
        for name in names
    ]
    for row in bandit["history"]:
        row["when"] = localtime(datetime.fromisoformat(row["computed_at"]))
        row["label"] = admin_datetime(row["when"])
        row["cells"] = [
            {
                "weight": percent(row["weights"].get(name)),
                "exposures": row["exposures"].get(name, 0),
                "conversions": row["conversions"].get(name, 0),
            }
            for name in names
        ]
    bandit["names"] = names
    bandit["floor_display"] = percent(bandit["floor"], 1)
    bandit["chart"] = weight_history_svg(bandit["history"], names)
    if bandit["updated_at"]:
        bandit["updated"] = localtime(datetime.fromisoformat(bandit["updated_at"]))


# THE REPORT
# ------------------------------------------------------------------------------


def report(request, pk: int):
    """Verdict banner, the cumulative rate chart, and results per goal and per segment."""
    experiment = _experiment(pk)
    data = presented(experiment_report(experiment=experiment), experiment)
    return TemplateResponse(
        request,
        "experiments/admin/report.html",
        {
            "experiment": experiment,
            "report": data,
            "verdict": data["verdict"],
            "chart": cumulative_rate_svg(data["series"]),
            "computed_at": getattr(getattr(experiment, "snapshot", None), "computed_at", None),
            "problems": experiment.readiness_problems() + start_problems(experiment=experiment),
            "is_holdout": experiment.kind == ExperimentKind.HOLDOUT,
            "pages_using": pages_using(experiment=experiment),
            "variants": _variants(experiment),
            "fixed_horizon": experiment.analysis == AnalysisMethod.FIXED,
            "page_title": _("Report: %(name)s") % {"name": experiment.name},
            "header_title": _("Report: %(name)s") % {"name": experiment.name},
            "header_icon": "pick",
            "breadcrumbs_items": _breadcrumbs(
                experiment, {"url": "", "label": _("Report: %(name)s") % {"name": experiment.name}}
            ),
            "header_buttons": [
                HeaderButton(
                    _("Edit"),
                    reverse(
                        "experiments_holdout:edit"
                        if experiment.kind == ExperimentKind.HOLDOUT
                        else "experiments_experiment:edit",
                        args=[pk],
                    ),
                    icon_name="edit",
                ),
                HeaderButton(
                    _("Export CSV"),
                    reverse("experiments_experiment:csv", args=[pk]),
                    icon_name="download",
                ),
            ],
        },
    )


def _variants(experiment: Experiment) -> list[Variant]:
    return sorted(experiment.variants.all(), key=lambda v: (v.sort_order or 0, v.pk))


def report_csv(request, pk: int):
    """The report's tables as CSV: one row per goal, segment and variant, with the same figures
    as the report and the results API (fractions, not percentages)."""
    experiment = _experiment(pk)
    data = experiment_report(experiment=experiment)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{experiment.key}-results.csv"'
    writer = csv.writer(response)
    writer.writerow(["goal", "segment", "variant", *CSV_COLUMNS])
    tables = [(t, "everyone") for t in data["goals"]]
    tables += [(s, s["name"]) for s in data["segments"]]
    method = data["correction"]["method"]
    for table, segment in tables:
        for row in table["variants"]:
            values = {**row, "correction": method if not row["is_control"] else "", "guardrail": ""}
            writer.writerow(
                [table["goal"]["name"], segment, row["name"], *(values[c] for c in CSV_COLUMNS)]
            )
    _guardrail_csv_rows(writer, data["guardrails"])
    return response


def _guardrail_csv_rows(writer, guardrails: dict) -> None:
    """Guardrail goals after the others: `guardrail` names the harmful direction, p-values are
    one-sided and adjusted (Holm) over the guardrail comparisons only, verdict harm/no_harm."""
    method = guardrails["correction"]["method"]
    for table in guardrails["goals"]:
        for row in table["variants"]:
            values = {
                **row,
                "correction": method if not row["is_control"] else "",
                "guardrail": table["goal"]["harm_direction"],
            }
            writer.writerow(
                [table["goal"]["name"], "everyone", row["name"], *(values[c] for c in CSV_COLUMNS)]
            )


# ACTIONS
# ------------------------------------------------------------------------------


def _holdout_elsewhere(request, experiment: Experiment):
    """A holdout is started, paused and stopped from its own page, and has no winner: the A/B
    actions send the editor there."""
    if experiment.kind != ExperimentKind.HOLDOUT:
        return None
    messages.error(
        request,
        _("“%(name)s” is a personalization holdout: start, pause or stop it from its own page.")
        % {"name": experiment.name},
    )
    return redirect("experiments_holdout:edit", experiment.pk)


def transition(request, pk: int, action: str):
    """Start or pause (POST); stop and roll back ("complete") after a confirmation (GET)."""
    experiment = get_object_or_404(Experiment, pk=pk)
    elsewhere = _holdout_elsewhere(request, experiment)
    if elsewhere is not None:
        return elsewhere
    if action == "complete" and request.method == "GET":
        return _confirm(request, _experiment(pk), None)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    steps = {
        "start": lambda: experiment_start(experiment=experiment),  # its pages agree (usage.py)
        "pause": experiment.pause,
        "complete": experiment.complete,
    }
    if action not in steps:
        messages.error(request, _("Unknown action."))
        return redirect("experiments_experiment:report", pk)
    try:
        steps[action]()
    except TransitionError as exc:
        messages.error(request, str(exc))
        return redirect("experiments_experiment:report", pk)
    if action == "complete":
        experiment_completed.send(sender=Experiment, experiment=experiment, winner=None)
        messages.success(
            request,
            _("“%(name)s” is stopped: every visitor sees the control again.")
            % {"name": experiment.name},
        )
    else:
        messages.success(
            request,
            _("“%(name)s” is now %(status)s.")
            % {"name": experiment.name, "status": experiment.get_status_display()},
        )
    return redirect("experiments_experiment:report", pk)


@require_POST
def refresh(request, pk: int):
    """Queue a recount of the report's aggregates (the `reports` queue)."""
    experiment = get_object_or_404(Experiment, pk=pk)
    enqueue("reports", snapshot_aggregates, experiment.pk)
    messages.success(request, _("Recounting the results; refresh in a moment."))
    return redirect("experiments_experiment:report", pk)


def declare_winner(request, pk: int):
    """GET: the confirmation page (the current verdict, a loud warning when the result does not
    support this winner). POST: complete the experiment with the winner — every visitor gets its
    content at once — and link the draft revisions that put it into the pages for good."""
    experiment = _experiment(pk)
    elsewhere = _holdout_elsewhere(request, experiment)
    if elsewhere is not None:
        return elsewhere
    chosen = request.POST.get("variant") or request.GET.get("variant")
    winner = next((v for v in _variants(experiment) if v.pk == _int(chosen)), None)
    if winner is None:
        messages.error(request, _("Choose one of this experiment's variants as the winner."))
        return redirect("experiments_experiment:report", pk)
    if request.method == "GET":
        return _confirm(request, experiment, winner)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        experiment.complete(winner=winner)
    except TransitionError as exc:
        messages.error(request, str(exc))
        return redirect("experiments_experiment:report", pk)
    results = experiment_completed.send(sender=Experiment, experiment=experiment, winner=winner)
    pages = [page for _, changed in results for page in (changed or [])]
    _winner_message(request, winner, pages)
    return redirect("experiments_experiment:report", pk)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _winner_message(request, winner: Variant, pages: list) -> None:
    """Success, with a button per page to compare its new draft with the live page."""
    served = _("Every visitor now sees “%(name)s”, on the site and in the API.") % {
        "name": winner.name
    }
    if not pages:
        admin_messages.success(request, f"{served} {_('No page content needed changing.')}")
        return
    drafts = Page.objects.filter(pk__in=[p.pk for p in pages]).values_list(
        "pk", "title", "latest_revision_id"
    )
    buttons = [
        admin_messages.button(
            reverse("wagtailadmin_pages:revisions_compare", args=[pk, "live", revision_id]),
            _("Review the draft of “%(title)s”") % {"title": title},
        )
        for pk, title, revision_id in drafts
    ]
    titles = ", ".join(title for _pk, title, _rev in drafts)
    admin_messages.success(
        request,
        f"{served} "
        + _("Draft revisions with its content are ready to publish on: %(pages)s.")
        % {"pages": titles},
        buttons=buttons,
    )


def _confirm(request, experiment: Experiment, winner: Variant | None):
    """The page that asks before declaring `winner` (or, with None, stopping and rolling back),
    showing the verdict and warning loudly when the result does not support the action."""
    data = presented(experiment_report(experiment=experiment), experiment)
    verdict = data["verdict"]
    variants = _variants(experiment)
    control = variants[0] if variants else None
    if winner is None:
        supported = verdict["state"] == Verdict.WORSE
        title = _("Stop “%(name)s” and roll back?") % {"name": experiment.name}
        action = reverse("experiments_experiment:transition", args=[experiment.pk, "complete"])
    else:
        supported = (verdict["state"] == Verdict.BETTER and verdict["variant"] == winner.name) or (
            verdict["state"] == Verdict.WORSE and control is not None and winner.pk == control.pk
        )
        title = _("Declare “%(variant)s” the winner?") % {"variant": winner.name}
        action = reverse("experiments_experiment:winner", args=[experiment.pk])
    harms = (data.get("guardrails") or {}).get("harm") or []
    winner_harms = [h for h in harms if winner is not None and h["variant"] == winner.name]
    return TemplateResponse(
        request,
        "experiments/admin/confirm.html",
        {
            "experiment": experiment,
            "winner": winner,
            "is_control": winner is not None and control is not None and winner.pk == control.pk,
            "report": data,
            "verdict": verdict,
            "supported": supported and not winner_harms,
            "winner_harms": winner_harms,
            "action": action,
            "page_title": title,
            "header_title": title,
            "header_icon": "pick",
            "breadcrumbs_items": _breadcrumbs(
                experiment,
                {
                    "url": reverse("experiments_experiment:report", args=[experiment.pk]),
                    "label": _("Report"),
                },
                {"url": "", "label": title},
            ),
        },
    )
