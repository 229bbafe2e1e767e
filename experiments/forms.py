"""The experiment editor's checks: weights, variants, goals, the key of a running test, variant
keys frozen once started, and page-level variants that show their own page's revisions."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets.slug import SlugInput
from wagtail.models import Revision

from experiments.allocation_form import AllocationFormMixin, each_child_form
from experiments.models import (
    AnalysisMethod,
    Correction,
    ExperimentStatus,
    GoalKind,
    HarmDirection,
    Variant,
)
from experiments.stats import minimum_sample_size_per_arm, sample_size_per_arm
from experiments.usage import pages_using
from personalization.templatetags.admin_format import admin_datetime

# The analysis settings (issue 16 §3) with their defaults when a form leaves them out.
ANALYSIS_DEFAULTS = {
    "analysis": AnalysisMethod.SEQUENTIAL,
    "alpha": 0.05,
    "correction": Correction.HOLM,
    "baseline_rate": None,
    "minimum_detectable_effect": None,
    "power": 0.8,
    "planned_sample_size": None,
    "cuped_window_days": 14,
}


class PercentField(forms.DecimalField):
    """A share edited as a percentage (50 → stored 0.5); shows stored shares as percentages."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("step", "any")

    def prepare_value(self, value):
        if isinstance(value, float | Decimal) and not isinstance(value, bool):
            return f"{Decimal(str(value)) * 100:f}".rstrip("0").rstrip(".") or "0"
        return value

    def clean(self, value):
        percent = super().clean(value)
        return None if percent is None else float(percent) / 100


def _live_forms(formset):
    """The formset's kept forms, in the order the editor arranged them."""
    forms = [
        f
        for f in formset.forms
        if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
    ]
    return sorted(
        forms,
        key=lambda f: f.cleaned_data.get("ORDER") if f.cleaned_data.get("ORDER") is not None else 0,
    )


def _has_started(experiment) -> bool:
    return bool(experiment.pk) and (
        experiment.started_at is not None or experiment.status != ExperimentStatus.DRAFT
    )


class ExperimentAdminForm(AllocationFormMixin, WagtailAdminModelForm):
    """Refuses what would make results meaningless, each with a message next to the field."""

    # ANALYSIS (declared here so they are validated and saved wherever the panels put them)
    analysis = forms.ChoiceField(
        label=_("Analysis"),
        choices=AnalysisMethod.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Sequential results may be read at any time. Fixed-horizon results only once, when "
            "every variant has the planned number of visitors: no verdict is shown before."
        ),
    )
    alpha = forms.DecimalField(
        label=_("Significance level (α)"),
        required=False,
        max_digits=6,
        decimal_places=4,
        help_text=_("Between 0 and 0.5; 0.05 is usual (one false winner in 20 comparisons)."),
    )
    correction = forms.ChoiceField(
        label=_("Correction for many comparisons"),
        choices=Correction.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Applied to every comparison the report shows (variants × segments × goals)."),
    )
    baseline_rate = PercentField(
        label=_("Baseline conversion rate (%)"),
        required=False,
        help_text=_("The primary goal's rate today, e.g. 4 (%)."),
    )
    minimum_detectable_effect = PercentField(
        label=_("Smallest uplift worth detecting (%)"),
        required=False,
        help_text=_("Relative to the baseline: 10 means 4 % → 4.4 %."),
    )
    power = PercentField(
        label=_("Power (%)"),
        required=False,
        help_text=_("Chance of detecting that uplift if it is real; 80 is usual."),
    )
    planned_sample_size = forms.IntegerField(
        label=_("Planned visitors per variant"),
        required=False,
        min_value=1,
        help_text=_("Fixed horizon only. Leave empty to use the calculator's figure."),
    )
    cuped_window_days = forms.IntegerField(
        label=_("CUPED window (days)"),
        required=False,
        min_value=0,
        max_value=365,
        help_text=_(
            "Visitors' behaviour in these days before their first exposure reduces the noise "
            "in the results (0: off)."
        ),
    )

    class Media:
        js = ["experiments/experiment-form.js"]  # goal fields by kind, one primary goal

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "hash_seed" in self.fields:
            self.fields["hash_seed"].required = False
        if self.instance.pk and self.instance.status != ExperimentStatus.DRAFT:
            self.fields["key"].help_text = _("Fixed: the experiment has run under this key.")
        self._limit_revisions()
        self._analysis_initial()
        self._key_from_name()
        self._weights_as_percentages()
        self._allocation_presentation()
        self._segments_as_checkboxes()
        self._owner_choices()
        self._harm_direction_optional()
        self.calculated_sample_size = None

    def _limit_revisions(self) -> None:
        """Variants choose among page revisions (of the experiment's page when it has one)."""
        formset = self.formsets.get("variants")
        if formset is None:
            return
        revisions = Revision.page_revisions.order_by("-created_at")
        if self.instance.page_id:
            revisions = revisions.filter(object_id=str(self.instance.page_id))
        revisions = revisions.select_related("user")

        def limit(form):
            if "revision" in form.fields:
                form.fields["revision"].queryset = revisions
                form.fields["revision"].label_from_instance = _revision_label

        each_child_form(formset, limit)

    # FORM PRESENTATION
    # --------------------------------------------------------------------------

    def _analysis_initial(self) -> None:
        """Declared fields get no initial value from the instance: give them the stored one,
        and show what the power calculator makes of the stored inputs."""
        for name, default in ANALYSIS_DEFAULTS.items():
            value = getattr(self.instance, name, default) if self.instance.pk else default
            self.initial.setdefault(name, value)
        if self.instance.pk and self.instance.status != ExperimentStatus.DRAFT:
            for name in ANALYSIS_DEFAULTS:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once the experiment has started.")
            return
        plan = self._calculated(
            self.initial.get("baseline_rate"),
            self.initial.get("minimum_detectable_effect"),
            self.initial.get("power") or 0.8,
            self.initial.get("alpha") or 0.05,
        )
        if plan is not None:
            self.fields["planned_sample_size"].help_text = _(
                "Fixed horizon only. The calculator's figure for the inputs above: %(plan)s "
                "visitors per variant (leave empty to use it)."
            ) % {"plan": f"{plan:,}"}

    def _key_from_name(self) -> None:
        """Until the experiment starts, typing the name fills in the key (Wagtail's title-to-
        slug sync); once it has run the key is fixed."""
        if self.instance.pk and self.instance.status != ExperimentStatus.DRAFT:
            return
        if "name" not in self.fields or "key" not in self.fields:
            return
        # The key is ASCII (a SlugField: it goes into URLs, the API and the hash): a name with
        # no Latin letters ("春のセール") leaves it empty for the editor to type, rather than
        # filling in a Unicode slug the field refuses.
        self.fields["key"].widget = SlugInput(
            attrs={**self.fields["key"].widget.attrs, "data-w-slug-allow-unicode-value": "false"}
        )
        self.fields["name"].widget.attrs.update(
            {
                "data-controller": "w-sync",
                "data-action": (
                    "focus->w-sync#check blur->w-sync#apply change->w-sync#apply "
                    "keyup->w-sync#apply"
                ),
                "data-w-sync-target-value": f"#{self['key'].auto_id}",
            }
        )

    def _weights_as_percentages(self) -> None:
        """Variant weights are edited as percentages that add up to 100 (stored as 0-1)."""

        def as_percentage(form):
            if "weight" in form.fields:
                form.fields["weight"] = PercentField(
                    label=_("Weight (%)"),
                    help_text=_("Share of the visitors who take part; all add up to 100."),
                )

        each_child_form(self.formsets.get("variants"), as_percentage)

    def _owner_choices(self) -> None:
        """The owner (told of guardrail harm) is one of the admin's users, by default the one
        creating the experiment."""
        field = self.fields.get("owner")
        if field is None:
            return
        field.queryset = (
            get_user_model()
            .objects.filter(
                Q(is_superuser=True)
                | Q(groups__permissions__codename="access_admin")
                | Q(user_permissions__codename="access_admin"),
                is_active=True,
            )
            .distinct()
            .order_by("username")
        )
        if not self.instance.pk and self.for_user is not None:
            self.initial.setdefault("owner", self.for_user.pk)

    def _harm_direction_optional(self) -> None:
        """“Harm is” matters only for guardrails (the form shows it only for them); a goal
        posted without it gets the default, an increase."""

        def optional(form):
            if "harm_direction" in form.fields:
                form.fields["harm_direction"].required = False

        each_child_form(self.formsets.get("goals"), optional)

    def _segments_as_checkboxes(self) -> None:
        field = self.fields.get("target_segments")
        if field is not None:
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        original = self.instance
        if original.pk and original.status != ExperimentStatus.DRAFT and key != original.key:
            raise _fixed_key_error(original.key)
        if original.pk and key != original.key:
            titles = [use.page.title for use in pages_using(experiment=original)]
            if titles:
                raise _error(
                    _(
                        "Pages use this experiment under its key “%(key)s”: %(pages)s. "
                        "Remove their A/B blocks for it (or the page-level test) first."
                    )
                    % {"key": original.key, "pages": ", ".join(titles)}
                )
        return key

    def clean_coverage(self) -> float:
        coverage = self.cleaned_data["coverage"]
        if not 0 < coverage <= 1:
            raise _error(_("Coverage is a share of visitors: more than 0 and at most 1."))
        return coverage

    def clean(self):
        cleaned = super().clean()
        self._check_variants()
        self._check_goals()
        self._check_analysis()
        return cleaned

    def save(self, commit=True):
        for name in ANALYSIS_DEFAULTS:
            if name in self.cleaned_data:
                setattr(self.instance, name, self.cleaned_data[name])
        return super().save(commit=commit)

    def _check_variants(self) -> None:
        formset = self.formsets.get("variants")
        if formset is None or not formset.is_valid():
            return
        forms = _live_forms(formset)
        names = [f.cleaned_data["name"] for f in forms]
        self._check_frozen_keys(forms, names)
        if len(forms) < 2:
            self.add_error(
                None, _("An experiment needs at least two variants; the first is the control.")
            )
            return
        if len(set(names)) != len(names):
            self.add_error(None, _("Each variant needs its own name."))
        self._check_page_level(forms)
        weights = [f.cleaned_data.get("weight") or 0 for f in forms]
        if any(w < 0 for w in weights):
            self.add_error(None, _("Variant weights cannot be negative."))
        elif abs(sum(weights) - 1) > 0.0001:
            self.add_error(
                None,
                _("Variant weights must add up to 100 %% (they add up to %(total)s %%).")
                % {"total": f"{sum(weights) * 100:g}"},
            )

    def _check_frozen_keys(self, forms, names: list[str]) -> None:
        """Once started, the variants' keys are fixed: pages hold content under them, visitors
        are assigned and counted under them, and the first is the control."""
        if not _has_started(self.instance):
            return
        stored = list(
            Variant.objects.filter(experiment=self.instance)
            .order_by("sort_order", "pk")
            .values_list("pk", "name")
        )
        submitted = [(f.instance.pk, name) for f, name in zip(forms, names, strict=True)]
        if submitted != stored:
            self.add_error(
                None,
                _(
                    "This experiment has started: its variants stay %(keys)s, in this order "
                    "(none added, removed, renamed or moved). Weights may change; to test other "
                    "variants, complete it and start a new experiment."
                )
                % {"keys": ", ".join(name for _pk, name in stored)},
            )

    def _check_page_level(self, forms) -> None:
        """A page-level test's variants show revisions of its page; each variant but the control
        needs one, or its visitors would see the live page while counted as that variant."""
        page = self.cleaned_data.get("page")
        for index, form in enumerate(forms):
            revision = form.cleaned_data.get("revision")
            if page is None:
                if revision is not None:
                    form.add_error(
                        "revision",
                        _("Choose the experiment's page (under “Who takes part”) first."),
                    )
                continue
            if revision is not None and revision.object_id != str(page.pk):
                form.add_error(
                    "revision",
                    _("This is a revision of another page; choose one of “%(page)s”.")
                    % {"page": page.title},
                )
            elif revision is None and index > 0:
                form.add_error(
                    "revision",
                    _(
                        "Choose the revision of “%(page)s” this variant's visitors see; without "
                        "one they would see the live page (the control)."
                    )
                    % {"page": page.title},
                )

    def _check_goals(self) -> None:
        formset = self.formsets.get("goals")
        if formset is None or not formset.is_valid():
            return
        forms = _live_forms(formset)
        measured = [f for f in forms if not f.cleaned_data.get("is_guardrail")]
        if len(measured) == 1 and not any(f.cleaned_data.get("is_primary") for f in forms):
            # a single goal that is not a guardrail is the primary goal: nothing to choose
            measured[0].cleaned_data["is_primary"] = measured[0].instance.is_primary = True
        primaries = [f for f in measured if f.cleaned_data.get("is_primary")]
        if forms and not measured:
            self.add_error(
                None,
                _(
                    "Every goal is a guardrail, so there is no primary goal to decide the "
                    "result: add the goal the experiment should improve."
                ),
            )
        elif len(primaries) != 1:
            self.add_error(None, _("Mark exactly one goal as the primary goal."))
        for form in forms:
            self._check_goal(form)
        self._check_guardrails(forms, primaries[0] if len(primaries) == 1 else None)

    @staticmethod
    def _check_guardrails(forms, primary) -> None:
        """A guardrail is watched for harm, never the goal that decides: it cannot be the
        primary goal, nor measure the same thing as the primary goal."""
        for form in forms:
            data = form.cleaned_data
            if "harm_direction" in data and not data["harm_direction"]:
                data["harm_direction"] = form.instance.harm_direction = HarmDirection.INCREASE
            if not data.get("is_guardrail"):
                continue
            if data.get("is_primary"):
                form.add_error(
                    "is_guardrail",
                    _(
                        "A goal is either the primary goal or a guardrail, not both: untick "
                        "one of them."
                    ),
                )
            elif primary is not None and _same_measure(data, primary.cleaned_data):
                form.add_error(
                    "is_guardrail",
                    _(
                        "This guardrail measures the same thing as the primary goal “%(name)s”: "
                        "a guardrail watches another metric (unsubscribes, removals from the "
                        "cart, …)."
                    )
                    % {"name": primary.cleaned_data.get("name")},
                )

    @staticmethod
    def _check_goal(form) -> None:
        data = form.cleaned_data
        kind = data.get("kind")
        if kind == GoalKind.PAGE_VISIT and not data.get("page"):
            previously = form.instance.pk and form.instance.page_was_set
            form.add_error(
                "page",
                _("Its page was deleted; choose another page.")
                if previously
                else _("Choose the page to visit."),
            )
        if kind == GoalKind.EVENT and not data.get("event_type"):
            form.add_error("event_type", _("Choose the event type."))
        if kind == GoalKind.CUSTOM and not (data.get("custom_name") or "").strip():
            form.add_error("custom_name", _("Give the custom event name."))
        amount = data.get("min_amount")
        if amount is not None and amount < 0:
            form.add_error("min_amount", _("The minimum amount cannot be negative."))

    # ANALYSIS
    # --------------------------------------------------------------------------

    def _check_analysis(self) -> None:
        """Defaults for what was left out, alpha in (0, 0.5), and a fixed-horizon plan no
        smaller than the minimum (computed by the power calculator when left empty)."""
        data = self.cleaned_data
        invalid = [name for name in ANALYSIS_DEFAULTS if name in self._errors]
        for name in invalid:
            if name not in (self._meta.fields or ()):  # not shown by a panel: say it at the top
                for message in self._errors[name]:
                    self.add_error(None, f"{self.fields[name].label}: {message}")
        if invalid:
            return
        for name, default in ANALYSIS_DEFAULTS.items():
            if self.fields[name].disabled or name not in self.data:
                data[name] = getattr(self.instance, name, default) if self.instance.pk else default
            elif data.get(name) in (None, ""):
                data[name] = default
        alpha = float(data["alpha"])
        data["alpha"] = alpha
        if not 0 < alpha < 0.5:
            self._analysis_error(
                "alpha", _("The significance level must be above 0 and below 0.5.")
            )
            return
        if not alpha < data["power"] < 1:
            self._analysis_error("power", _("Power must be above α and below 100 %."))
            return
        baseline = data["baseline_rate"]
        if baseline is not None and not 0 < baseline < 1:
            self._analysis_error("baseline_rate", _("A rate between 0 and 100 %, both excluded."))
            return
        self._check_plan(data, alpha)

    def _check_plan(self, data: dict, alpha: float) -> None:
        baseline, effect = data["baseline_rate"], data["minimum_detectable_effect"]
        if baseline is not None and effect is not None:
            self.calculated_sample_size = self._calculated(baseline, effect, data["power"], alpha)
            if self.calculated_sample_size is None:
                self._analysis_error(
                    "minimum_detectable_effect",
                    _("Not zero, and the baseline rate with this uplift must stay below 100 %."),
                )
                return
        if data["analysis"] != AnalysisMethod.FIXED:
            return
        planned = data["planned_sample_size"] or self.calculated_sample_size
        if planned is None:
            self._analysis_error(
                "planned_sample_size",
                _(
                    "A fixed-horizon analysis needs a plan: give the planned visitors per "
                    "variant, or the baseline rate and the smallest uplift to compute it."
                ),
            )
            return
        minimum = minimum_sample_size_per_arm(baseline)
        if planned < minimum:
            self._analysis_error(
                "planned_sample_size",
                _(
                    "At least %(minimum)s visitors per variant: below that the test's normal "
                    "approximation cannot be trusted."
                )
                % {"minimum": f"{minimum:,}"},
            )
            return
        data["planned_sample_size"] = planned

    def _analysis_error(self, name: str, message: str) -> None:
        """Next to the field when the panels show it; else at the top, naming the field."""
        if name in (self._meta.fields or ()):
            self.add_error(name, message)
        else:
            self.add_error(None, f"{self.fields[name].label}: {message}")

    @staticmethod
    def _calculated(baseline, effect, power, alpha) -> int | None:
        """The power calculator's plan, or None when the inputs cannot give one."""
        if baseline is None or effect is None:
            return None
        try:
            return sample_size_per_arm(
                float(baseline), float(effect), power=float(power), alpha=float(alpha)
            )
        except ValueError:
            return None


def _same_measure(goal: dict, other: dict) -> bool:
    """Whether two goals' cleaned data count the same conversions: the same kind and the same
    page, event type or custom event name."""
    kind = goal.get("kind")
    if kind != other.get("kind"):
        return False
    if kind == GoalKind.PAGE_VISIT:
        return goal.get("page") is not None and goal.get("page") == other.get("page")
    if kind == GoalKind.EVENT:
        return bool(goal.get("event_type")) and goal.get("event_type") == other.get("event_type")
    name = (goal.get("custom_name") or "").strip()
    return bool(name) and name == (other.get("custom_name") or "").strip()


def _revision_label(revision: Revision) -> str:
    """A revision as an editor recognises it: the page, when, and by whom."""
    when = admin_datetime(revision.created_at)
    by = revision.user.get_username() if revision.user_id else _("unknown")
    return _("%(page)s — saved %(when)s by %(by)s") % {
        "page": revision.object_str,
        "when": when,
        "by": by,
    }


def _error(message: str):
    return ValidationError(message)


def _fixed_key_error(key: str):
    return _error(
        _(
            "The key of an experiment that has run cannot change (it is “%(key)s”): "
            "it names the hash and the stored assignments."
        )
        % {"key": key}
    )
