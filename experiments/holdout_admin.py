"""Personalization holdouts in the admin's Personalization menu: the list (segment, share,
status, lift), the add/edit form (segment or all, share as a percentage, goals), start / pause /
stop, and the report "Is personalization working?".

A holdout is an Experiment of kind "holdout" (`experiments.holdouts`); these views show only
holdouts, and the experiments list leaves them out."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    PageChooserPanel,
)
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from experiments.chart import percent, uplift_bar_svg
from experiments.forms import ExperimentAdminForm, PercentField, _live_forms
from experiments.holdout_report import holdout_report
from experiments.holdouts import MAX_SHARE, holdout_key, holdout_share, holdout_variants_set
from experiments.models import (
    AnalysisMethod,
    Correction,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    TransitionError,
)
from experiments.selectors import experiment_report, primary_goal
from personalization.models import Segment
from personalization.templatetags.admin_format import admin_datetime

ALL_SEGMENTS = gettext_lazy("All segments")
HOLDOUTS = gettext_lazy("Holdouts")
REPORT_TITLE = gettext_lazy("Is personalization working?")


def holdout_queryset():
    return Experiment.objects.filter(kind=ExperimentKind.HOLDOUT)


# THE FORM
# ------------------------------------------------------------------------------


class HoldoutAdminForm(WagtailAdminModelForm):
    """Segment (or all), the held-out share as a percentage, and the goals; refuses a share
    outside (0, 50 %], a second holdout of one segment and a second global holdout."""

    share = PercentField(
        label=gettext_lazy("Held-out share (%)"),
        help_text=gettext_lazy(
            "Of the visitors the segment matches, this many per hundred see the default content "
            "instead of the segment's variant, e.g. 5. At most 50."
        ),
    )

    class Media:
        js = ["experiments/experiment-form.js"]  # goal fields by kind, one primary goal

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Leave empty to name it after the segment.")
        segment = self.fields.get("holdout_segment")
        if segment is not None:
            segment.empty_label = str(ALL_SEGMENTS)
            segment.label = _("Segment held out")
            segment.help_text = _(
                "Visitors this segment matches are held out; “All segments” holds out of every "
                "segment that has no holdout of its own."
            )
            if self._started:
                segment.disabled = True
                segment.help_text = _("Fixed once the holdout has started.")
        if self.instance.pk:
            share = holdout_share(self.instance)
            if share is not None:
                self.initial.setdefault("share", share)

    @property
    def _started(self) -> bool:
        holdout = self.instance
        return bool(holdout.pk) and (
            holdout.started_at is not None or holdout.status != ExperimentStatus.DRAFT
        )

    def clean_share(self) -> float:
        share = self.cleaned_data["share"]
        if share is None or not 0 < share <= MAX_SHARE:
            raise forms.ValidationError(
                _("The held-out share is a percentage above 0 and at most 50.")
            )
        return share

    def clean_holdout_segment(self) -> Segment | None:
        segment = self.cleaned_data.get("holdout_segment")
        others = holdout_queryset().exclude(pk=self.instance.pk) if self.instance.pk else None
        others = others if others is not None else holdout_queryset()
        taken = (
            others.filter(holdout_segment=segment)
            if segment
            else others.filter(holdout_segment__isnull=True)
        )
        existing = taken.first()
        if existing is not None:
            message = (
                _("“%(segment)s” already has a holdout: “%(name)s” (%(status)s).")
                if segment is not None
                else _("There is already a holdout of all segments: “%(name)s” (%(status)s).")
            )
            raise forms.ValidationError(
                message
                % {
                    "segment": segment,
                    "name": existing.name,
                    "status": existing.get_status_display(),
                }
                + " "
                + _("Edit that one, or delete it first.")
            )
        return segment

    def clean(self):
        cleaned = super().clean()
        self._check_goals()
        return cleaned

    def _check_goals(self) -> None:
        """At least one goal, exactly one primary (a single goal is primary by itself), each
        measurable: the experiment form's rules."""
        formset = self.formsets.get("goals")
        if formset is None or not formset.is_valid():
            return
        kept = _live_forms(formset)
        if not kept:
            self.add_error(None, _("Choose at least one of the site's goals to measure."))
            return
        if len(kept) == 1:
            kept[0].cleaned_data["is_primary"] = kept[0].instance.is_primary = True
        if sum(1 for f in kept if f.cleaned_data.get("is_primary")) != 1:
            self.add_error(None, _("Mark exactly one goal as the primary goal."))
        for form in kept:
            ExperimentAdminForm._check_goal(form)

    def save(self, commit=True):
        holdout = self.instance
        holdout.kind = ExperimentKind.HOLDOUT
        holdout.analysis = AnalysisMethod.SEQUENTIAL  # read every day, so always-valid
        segment = self.cleaned_data.get("holdout_segment")
        if not self._started and (not holdout.pk or not holdout.key or self._segment_changed()):
            holdout.key = holdout_key(segment)
        if not (self.cleaned_data.get("name") or "").strip():
            holdout.name = _("Holdout: %(segment)s") % {"segment": segment or ALL_SEGMENTS}
        saved = super().save(commit=commit)
        if commit:
            holdout_variants_set(experiment=saved, share=self.cleaned_data["share"])
        return saved

    def _segment_changed(self) -> bool:
        return "holdout_segment" in self.changed_data


# THE LIST, ADD AND EDIT VIEWS
# ------------------------------------------------------------------------------


class HoldoutViewMixin:
    """Only holdouts, and "Holdouts" where Wagtail would say "Experiments"."""

    def get_base_queryset(self):
        return holdout_queryset().select_related("holdout_segment").prefetch_related("variants")

    def get_object(self, queryset=None):
        return get_object_or_404(holdout_queryset(), pk=self.kwargs.get("pk"))

    def get_breadcrumbs_items(self):
        items = super().get_breadcrumbs_items()
        index = reverse("experiments_holdout:index")
        return [{**item, "label": HOLDOUTS} if item.get("url") == index else item for item in items]


class HoldoutIndexView(HoldoutViewMixin, generic.IndexView):
    page_title = HOLDOUTS
    add_item_label = gettext_lazy("Add a holdout")

    def get_header_buttons(self):
        return [
            *super().get_header_buttons(),
            HeaderButton(
                REPORT_TITLE, reverse("experiments_holdout_report:index"), icon_name="view"
            ),
        ]


class HoldoutCreateView(HoldoutViewMixin, generic.CreateView):
    page_title = gettext_lazy("New holdout")
    success_message = gettext_lazy(
        "Holdout “%(object)s” saved. Start it from the report “Is personalization working?”."
    )

    error_message = gettext_lazy("The holdout could not be saved due to errors.")

    def get_initial_form_instance(self):
        return Experiment(kind=ExperimentKind.HOLDOUT)


class HoldoutEditView(HoldoutViewMixin, generic.EditView):
    success_message = gettext_lazy("Holdout “%(object)s” saved.")
    error_message = gettext_lazy("The holdout could not be saved due to errors.")


class HoldoutDeleteView(HoldoutViewMixin, generic.DeleteView):
    pass


def _segment_column(holdout: Experiment) -> str:
    return holdout.holdout_segment.name if holdout.holdout_segment_id else str(ALL_SEGMENTS)


def _share_column(holdout: Experiment) -> str:
    return percent(holdout_share(holdout), 1)


def lift_summary(holdout: Experiment) -> str:
    """ "+12.3 % (−1.0 % to +25.0 %)": personalized over default on the primary goal (the
    holdout's own report; a listing shows a handful of holdouts)."""
    goal = primary_goal(holdout)
    if goal is None:
        return "—"
    report = experiment_report(experiment=holdout)
    table = next((t for t in report["goals"] if t["goal"]["id"] == goal.pk), None)
    row = next((r for r in (table or {}).get("variants", []) if not r["is_control"]), None)
    if row is None or row["uplift"] is None:
        return "—"
    interval = (
        f"{percent(row['ci_low'], signed=True)} {_('to')} {percent(row['ci_high'], signed=True)}"
    )
    return f"{percent(row['uplift'], signed=True)} ({interval})"


class HoldoutViewSet(ModelViewSet):
    """Personalization holdouts: who is held out, how many, measured on which goals."""

    model = Experiment
    icon = "resubmit"
    menu_label = gettext_lazy("Holdouts")
    url_prefix = "personalization/holdouts"
    url_namespace = "experiments_holdout"
    index_view_class = HoldoutIndexView
    add_view_class = HoldoutCreateView
    edit_view_class = HoldoutEditView
    delete_view_class = HoldoutDeleteView
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = [
        "name",
        Column("segment", label=gettext_lazy("Segment"), accessor=_segment_column),
        Column("share", label=gettext_lazy("Held out"), accessor=_share_column),
        "status",
        Column(
            "lift", label=gettext_lazy("Lift on the primary goal (interval)"), accessor=lift_summary
        ),
    ]
    list_filter = ["status"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    HelpPanel(
                        content=gettext_lazy(
                            "A holdout shows the default content to a share of the visitors "
                            "a segment matches, and measures whether the segment's variant "
                            "does better on the site's goals. See the report “Is "
                            "personalization working?”."
                        )
                    ),
                    FieldPanel("holdout_segment"),
                    FieldPanel("share"),
                    FieldPanel("name"),
                    FieldPanel("status", read_only=True),
                ],
                heading=gettext_lazy("Holdout"),
            ),
            MultiFieldPanel(
                [
                    InlinePanel(
                        "goals",
                        label=gettext_lazy("Goal"),
                        panels=[
                            FieldRowPanel([FieldPanel("name"), FieldPanel("is_primary")]),
                            FieldPanel("kind"),
                            FieldRowPanel(
                                [PageChooserPanel("page"), FieldPanel("include_descendants")]
                            ),
                            FieldRowPanel([FieldPanel("event_type"), FieldPanel("min_amount")]),
                            FieldPanel("custom_name"),
                        ],
                    )
                ],
                heading=gettext_lazy("The site's goals to measure"),
            ),
        ],
        base_form_class=HoldoutAdminForm,
    )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("<int:pk>/<slug:action>/", transition, name="transition"),
        ]


# START, PAUSE, STOP
# ------------------------------------------------------------------------------


def transition(request, pk: int, action: str):
    """Start, pause or stop a holdout (POST), back to the report."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    holdout = get_object_or_404(holdout_queryset(), pk=pk)
    if not request.user.has_perm("experiments.change_experiment"):
        raise PermissionDenied
    steps = {"start": holdout.start, "pause": holdout.pause, "stop": holdout.complete}
    if action not in steps:
        messages.error(request, _("Unknown action."))
        return redirect("experiments_holdout_report:index")
    try:
        steps[action]()
    except TransitionError as exc:
        messages.error(request, str(exc))
        return redirect("experiments_holdout_report:index")
    done = {
        "start": _("“%(name)s” is running: the share is held out from now on."),
        "pause": _("“%(name)s” is paused: nobody is held out; assignments are kept."),
        "stop": _("“%(name)s” is stopped: everyone sees personalized content again."),
    }
    messages.success(request, done[action] % {"name": holdout.name})
    return redirect("experiments_holdout_report:index")


# THE REPORT
# ------------------------------------------------------------------------------


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _present(report: dict) -> dict:
    """Display strings and bars for the template (the numbers stay as they are)."""
    for entry in report["holdouts"]:
        lines = entry["lines"]
        values = [v for line in lines for v in (line["ci_low"], line["ci_high"], line["uplift"])]
        values = [v for v in values if v is not None] + [0.0]
        low, high = min(values), max(values)
        if high - low < 0.02:
            low, high = low - 0.01, high + 0.01
        scale = (low - (high - low) * 0.06, high + (high - low) * 0.06)
        computed = entry["computed_at"]
        entry["display"] = {
            "status": ExperimentStatus(entry["holdout"]["status"]).label,
            "computed_at": admin_datetime(computed),
            "share": percent(entry["holdout"]["share"], 1),
            "segment": (entry["holdout"]["segment"] or {}).get("name") or str(ALL_SEGMENTS),
        }
        for line in lines:
            line["display"] = {
                "default_rate": percent(line["default"]["rate"], 2),
                "personalized_rate": percent(line["personalized"]["rate"], 2),
                "lift": percent(line["uplift"], signed=True),
                "interval": (
                    f"{percent(line['ci_low'], signed=True)} {_('to')} "
                    f"{percent(line['ci_high'], signed=True)}"
                    if line["ci_low"] is not None
                    else ""
                ),
                "p_value": _p(line["p_value"]),
                "adjusted_p_value": _p(line["adjusted_p_value"]),
                "bar": uplift_bar_svg(line, scale) if line["uplift"] is not None else "",
            }
    return report


def report(request):
    """One section per holdout: its verdict, then per goal the lift of personalized over
    default with its sequential interval and the page-wide adjusted p-value."""
    correction = request.GET.get("correction", Correction.HOLM)
    if correction not in Correction.values:
        correction = Correction.HOLM
    data = _present(holdout_report(correction=correction))
    title = str(REPORT_TITLE)
    return TemplateResponse(
        request,
        "experiments/admin/holdouts/report.html",
        {
            "report": data,
            "correction": correction,
            "corrections": Correction.choices,
            "page_title": title,
            "header_title": title,
            "header_icon": "resubmit",
            "breadcrumbs_items": [
                {"url": reverse("wagtailadmin_home"), "label": _("Home")},
                {"url": reverse("experiments_holdout:index"), "label": HOLDOUTS},
                {"url": "", "label": title},
            ],
            "header_buttons": [
                HeaderButton(
                    _("Add a holdout"), reverse("experiments_holdout:add"), icon_name="plus"
                ),
            ],
        },
    )


class HoldoutReportViewSet(ViewSet):
    name = "experiments_holdout_report"
    url_prefix = "personalization/holdouts-report"
    icon = "view"
    menu_label = REPORT_TITLE

    def get_urlpatterns(self):
        return [path("", report, name="index")]
