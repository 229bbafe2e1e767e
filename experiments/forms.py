"""The experiment editor's checks: weights, variants, goals, the key of a running test, variant
keys frozen once started, and page-level variants that show their own page's revisions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.models import Revision

from experiments.models import ExperimentStatus, GoalKind, Variant
from experiments.usage import pages_using


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
        names = [f.cleaned_data["name"] for f in forms]
        self._check_frozen_keys(forms, names)
        if len(forms) < 2:
            self.add_error(
                None, "An experiment needs at least two variants; the first is the control."
            )
            return
        if len(set(names)) != len(names):
            self.add_error(None, "Each variant needs its own name.")
        self._check_page_level(forms)
        weights = [f.cleaned_data.get("weight") or 0 for f in forms]
        if any(w < 0 for w in weights):
            self.add_error(None, "Variant weights cannot be negative.")
        elif abs(sum(weights) - 1) > 0.001:
            self.add_error(
                None, f"Variant weights must add up to 1 (they add up to {sum(weights):g})."
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
