"""The experiment report (results, chart, SRM warning, per-segment tabs, CSV) and its actions:
start, pause, complete, refresh, declare a winner."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from config.jobs import enqueue
from experiments.chart import cumulative_rate_svg
from experiments.jobs import snapshot_aggregates
from experiments.models import Experiment, TransitionError
from experiments.selectors import experiment_report
from experiments.signals import experiment_completed
from experiments.usage import experiment_start, pages_using, start_problems


def report(request, pk: int):
    """Results per goal and per segment-at-exposure, with the cumulative rate chart."""
    experiment = get_object_or_404(Experiment.objects.prefetch_related("variants", "goals"), pk=pk)
    data = experiment_report(experiment=experiment)
    srm_alarm = any(g["srm"] and g["srm"]["mismatch"] for g in data["goals"])
    return TemplateResponse(
        request,
        "experiments/admin/report.html",
        {
            "experiment": experiment,
            "report": data,
            "srm_alarm": srm_alarm,
            "chart": cumulative_rate_svg(data["series"]),
            "computed_at": getattr(getattr(experiment, "snapshot", None), "computed_at", None),
            "problems": experiment.readiness_problems() + start_problems(experiment=experiment),
            "pages_using": pages_using(experiment=experiment),
            "page_title": f"Report: {experiment.name}",
            "header_title": f"Report: {experiment.name}",
        },
    )


def report_csv(request, pk: int):
    """The results tables as CSV: one row per goal, segment and variant."""
    experiment = get_object_or_404(Experiment, pk=pk)
    data = experiment_report(experiment=experiment)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{experiment.key}-results.csv"'
    writer = csv.writer(response)
    columns = [
        "exposures",
        "conversions",
        "rate",
        "abs_uplift",
        "abs_ci_low",
        "abs_ci_high",
        "rel_uplift",
        "p_value",
        "chance_to_beat_control",
        "revenue_per_visitor",
        "note",
    ]
    writer.writerow(["goal", "segment", "variant", *columns])
    tables = [(g, "everyone") for g in data["goals"]]
    tables += [(s, s["name"]) for s in data["segments"]]
    for table, segment in tables:
        for row in table["variants"]:
            goal = table["goal"]["name"] if table["goal"] else ""
            writer.writerow([goal, segment, row["name"], *(row.get(c) for c in columns)])
    return response


@require_POST
def transition(request, pk: int, action: str):
    """Start, pause or complete (without a winner) an experiment."""
    experiment = get_object_or_404(Experiment, pk=pk)
    steps = {
        "start": lambda: experiment_start(experiment=experiment),  # its pages agree (usage.py)
        "pause": experiment.pause,
        "complete": experiment.complete,
    }
    if action not in steps:
        messages.error(request, "Unknown action.")
        return redirect("experiments_experiment:report", pk)
    try:
        steps[action]()
    except TransitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{experiment.name}” is now {experiment.get_status_display()}.")
        if action == "complete":
            experiment_completed.send(sender=Experiment, experiment=experiment, winner=None)
    return redirect("experiments_experiment:report", pk)


@require_POST
def refresh(request, pk: int):
    """Queue a recount of the report's aggregates (the `reports` queue)."""
    experiment = get_object_or_404(Experiment, pk=pk)
    enqueue("reports", snapshot_aggregates, experiment.pk)
    messages.success(request, "Recounting the results; refresh in a moment.")
    return redirect("experiments_experiment:report", pk)


@require_POST
def declare_winner(request, pk: int):
    """Complete the experiment with a winner; its content goes into new draft revisions."""
    experiment = get_object_or_404(Experiment, pk=pk)
    winner = experiment.variants.filter(pk=request.POST.get("variant") or 0).first()
    if winner is None:
        messages.error(request, "Choose one of this experiment's variants as the winner.")
        return redirect("experiments_experiment:report", pk)
    try:
        experiment.complete(winner=winner)
    except TransitionError as exc:
        messages.error(request, str(exc))
        return redirect("experiments_experiment:report", pk)
    results = experiment_completed.send(sender=Experiment, experiment=experiment, winner=winner)
    pages = [page for _, changed in results for page in (changed or [])]
    messages.success(
        request,
        f"“{winner.name}” won. "
        + (
            f"Draft revisions with its content are ready to publish on: "
            f"{', '.join(p.title for p in pages)}."
            if pages
            else "No page content needed changing."
        ),
    )
    return redirect("experiments_experiment:report", pk)
