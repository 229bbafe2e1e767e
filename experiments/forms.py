"""The experiment editor's checks: weights, variants, goals and the key of a running test."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.models import Revision

from experiments.models import ExperimentStatus, GoalKind


def _live_forms(formset):
    return [
        f
        for f in formset.forms
        if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
    ]


class ExperimentAdminForm(WagtailAdminModelForm):
    """Refuses what would make results meaningless, each with a message next to the field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "hash_seed" in self.fields:
            self.fields["hash_seed"].required = False
        if self.instance.pk and self.instance.status != ExperimentStatus.DRAFT:
            self.fields["key"].help_text = "Fixed: the experiment has run under this key."
        self._limit_revisions()

    def _limit_revisions(self) -> None:
        """Variants choose among page revisions (of the experiment's page when it has one)."""
        formset = self.formsets.get("variants")
        if formset is None:
            return
        revisions = Revision.page_revisions.order_by("-created_at")
        if self.instance.page_id:
            revisions = revisions.filter(object_id=str(self.instance.page_id))
        for form in [*formset.forms, formset.empty_form]:
            if "revision" in form.fields:
                form.fields["revision"].queryset = revisions

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        original = self.instance
        if original.pk and original.status != ExperimentStatus.DRAFT and key != original.key:
            raise _fixed_key_error(original.key)
        return key

    def clean_coverage(self) -> float:
        coverage = self.cleaned_data["coverage"]
        if not 0 < coverage <= 1:
            raise _error("Coverage is a share of visitors: more than 0 and at most 1.")
        return coverage

    def clean(self):
        cleaned = super().clean()
        self._check_variants()
        self._check_goals()
        return cleaned

    def _check_variants(self) -> None:
        formset = self.formsets.get("variants")
        if formset is None or not formset.is_valid():
            return
        forms = _live_forms(formset)
        if len(forms) < 2:
            self.add_error(
                None, "An experiment needs at least two variants; the first is the control."
            )
            return
        names = [f.cleaned_data["name"] for f in forms]
        if len(set(names)) != len(names):
            self.add_error(None, "Each variant needs its own name.")
        weights = [f.cleaned_data.get("weight") or 0 for f in forms]
        if any(w < 0 for w in weights):
            self.add_error(None, "Variant weights cannot be negative.")
        elif abs(sum(weights) - 1) > 0.001:
            self.add_error(
                None, f"Variant weights must add up to 1 (they add up to {sum(weights):g})."
            )

    def _check_goals(self) -> None:
        formset = self.formsets.get("goals")
        if formset is None or not formset.is_valid():
            return
        forms = _live_forms(formset)
        primaries = [f for f in forms if f.cleaned_data.get("is_primary")]
        if len(primaries) != 1:
            self.add_error(None, "Mark exactly one goal as the primary goal.")
        for form in forms:
            self._check_goal(form)

    @staticmethod
    def _check_goal(form) -> None:
        data = form.cleaned_data
        kind = data.get("kind")
        if kind == GoalKind.PAGE_VISIT and not data.get("page"):
            previously = form.instance.pk and form.instance.page_was_set
            form.add_error(
                "page",
                "Its page was deleted; choose another page."
                if previously
                else "Choose the page to visit.",
            )
        if kind == GoalKind.EVENT and not data.get("event_type"):
            form.add_error("event_type", "Choose the event type.")
        if kind == GoalKind.CUSTOM and not (data.get("custom_name") or "").strip():
            form.add_error("custom_name", "Give the custom event name.")
        amount = data.get("min_amount")
        if amount is not None and amount < 0:
            form.add_error("min_amount", "The minimum amount cannot be negative.")


def _error(message: str):
    return ValidationError(message)


def _fixed_key_error(key: str):
    return _error(
        f"The key of an experiment that has run cannot change (it is “{key}”): "
        "it names the hash and the stored assignments."
    )
