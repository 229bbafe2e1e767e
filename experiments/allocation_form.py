"""The experiment form's allocation part (issue 16 §4): the layer slice an experiment takes, and
bandit allocation. A mixin of `experiments.forms.ExperimentAdminForm`.

Layers: an experiment in a layer takes a slice of the layer's hash range (GrowthBook's
namespaces), given as percentages of the layer; left empty, it takes the first free slice (of
the share asked for, else the whole first gap). Slices of the layer's other experiments that are
not completed may not overlap. Once started, the layer and the slice are fixed: they decide who
takes part, and moving them would count other visitors under the same assignments.

Bandits: the floor (as a percentage) must leave room for every variant (floor × variants ≤ 100 %)
and stay below 50 %. A bandit sets the weights itself, so the weights typed in the Variants
panel are not used: equal weights until it starts (its burn-in), the bandit's own afterwards.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from experiments.models import Allocation, Experiment, ExperimentStatus, Layer, Variant
from experiments.statistics.bandit import rounded_weights

LAYER_FIELDS = ("layer", "namespace_start", "namespace_end")
BANDIT_FIELDS = ("allocation", "bandit_burn_in", "bandit_floor", "bandit_interval_minutes")
FROZEN_ONCE_STARTED = (*LAYER_FIELDS, "allocation")
MIN_INTERVAL_MINUTES = 10  # the reweighting job runs every 10 minutes (PERIODIC_JOBS)

Slice = tuple[float, float, str]  # start, end, the experiment holding it


def _percent(share: float) -> str:
    return f"{share * 100:.4f}".rstrip("0").rstrip(".") + " %"


def slice_label(start: float, end: float) -> str:
    """[0.25, 0.5) → "25–50 %"."""
    return f"{_percent(start).removesuffix(' %')}–{_percent(end)}"


class ShareField(forms.DecimalField):
    """A share of the layer or of the traffic, typed as a percentage (5 → stored 0.05). When
    disabled (fixed once started) it gets back the stored share, not a typed percentage."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("step", "any")

    def prepare_value(self, value):
        if isinstance(value, float):
            return _percent(value).removesuffix(" %")
        return value

    def clean(self, value):
        if self.disabled:
            return None if value in (None, "") else float(value)
        percent = super().clean(value)
        return None if percent is None else float(percent) / 100


def taken_slices(*, exclude: int | None = None) -> dict[int, list[Slice]]:
    """Layer id → the slices of its experiments that are not completed, in order."""
    rows = (
        Experiment.objects.filter(layer__isnull=False)
        .exclude(status=ExperimentStatus.COMPLETED)
        .exclude(pk=exclude)
        .order_by("namespace_start", "pk")
        .values_list("layer_id", "namespace_start", "namespace_end", "name")
    )
    taken: dict[int, list[Slice]] = {}
    for layer_id, start, end, name in rows:
        taken.setdefault(layer_id, []).append((start, end, name))
    return taken


def free_gaps(taken: list[Slice]) -> list[tuple[float, float]]:
    """The parts of [0, 1) no slice covers, in order."""
    gaps, cursor = [], 0.0
    for start, end, _name in sorted(taken):
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < 1:
        gaps.append((cursor, 1.0))
    return gaps


def first_free_slice(taken: list[Slice], share: float | None) -> tuple[float, float] | None:
    """The first free slice: `share` wide at the start of the first gap that fits it, or the
    whole first gap when no share is asked for; None when nothing fits."""
    for start, end in free_gaps(taken):
        if share is None:
            return start, end
        if end - start >= share - 1e-9:
            return start, min(start + share, 1.0)
    return None


def each_child_form(formset, change) -> None:
    """Apply `change(form)` to every form of an inline `formset`, including the blank form the
    editor's "Add" button copies: Django builds `formset.empty_form` anew at each access, so a
    change made to one copy is lost; every form gets its fields from `add_fields`, which is
    where the change is made (and on the forms already built)."""
    if formset is None:
        return
    add_fields = formset.add_fields

    def add_fields_and_change(form, index):
        add_fields(form, index)
        change(form)

    formset.add_fields = add_fields_and_change
    if "forms" in formset.__dict__:  # built already (a cached property)
        for form in formset.forms:
            change(form)


class AllocationFormMixin(forms.Form):
    """The layer select (each layer with its free room), the slice, and the bandit settings."""

    layer_share = ShareField(
        label=_("Share of the layer (%)"),
        help_text=_("Leave start and end empty to take the first free slice this wide."),
    )
    namespace_start = ShareField(
        label=_("Slice start (%)"),
        help_text=_("Empty: the first free slice of the layer."),
    )
    namespace_end = ShareField(label=_("Slice end (%)"))
    allocation = forms.ChoiceField(
        label=_("Allocation"),
        choices=Allocation.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "A bandit sends more visitors to the variants doing better on the primary goal: "
            "more conversions while it runs, but its uplifts and p-values are biased. To measure "
            "an effect, use fixed weights."
        ),
    )
    bandit_burn_in = forms.IntegerField(
        label=_("Burn-in (exposures per variant)"),
        required=False,
        min_value=0,
        help_text=_("Equal weights until every variant has been seen this many times."),
    )
    bandit_floor = ShareField(
        label=_("Exploration floor (%)"),
        help_text=_(
            "The smallest share any variant keeps, so a wrong early lead can still be "
            "corrected; below 50 %, and no more than 100 % over all variants."
        ),
    )
    bandit_interval_minutes = forms.IntegerField(
        label=_("Reweight every (minutes)"),
        required=False,
        min_value=MIN_INTERVAL_MINUTES,
        help_text=_("60 is usual; the weights are checked every 10 minutes."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        self._taken = taken_slices(exclude=instance.pk)
        for name in BANDIT_FIELDS:
            self.initial.setdefault(name, getattr(instance, name))
        in_layer = bool(instance.pk and instance.layer_id)
        for name in ("namespace_start", "namespace_end"):
            self.initial[name] = getattr(instance, name) if in_layer else None
        self._layer_choices()
        self._freeze_once_started()

    def _layer_choices(self) -> None:
        """Each layer offered with its free room, e.g. "Home page (free: 50–100 %)"."""
        field = self.fields.get("layer")
        if field is None:
            return
        field.help_text = _(
            "Experiments in one layer never share a visitor: each takes its own slice of the "
            "layer's visitors. Empty: no layer."
        )

        def label(layer: Layer) -> str:
            gaps = free_gaps(self._taken.get(layer.pk, []))
            room = ", ".join(slice_label(s, e) for s, e in gaps) or _("full")
            return _("%(layer)s (free: %(room)s)") % {"layer": layer.name, "room": room}

        field.label_from_instance = label
        field.empty_label = _("No layer (everyone may take part)")
        # a plain select rather than the snippet chooser, so each layer shows its free room
        field.widget = forms.Select()
        field.widget.choices = field.choices

    def _has_started(self) -> bool:
        instance = self.instance
        return bool(instance.pk) and (
            instance.started_at is not None or instance.status != ExperimentStatus.DRAFT
        )

    def _freeze_once_started(self) -> None:
        if not self._has_started():
            return
        for name in (*FROZEN_ONCE_STARTED, "layer_share"):
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = _(
                    "Fixed once the experiment has started: it decides who takes part."
                )

    def _allocation_presentation(self) -> None:
        """Under a bandit, the Variants panel's weights say they are the bandit's."""
        if self.instance.allocation != Allocation.BANDIT:
            return

        def bandit_weight(form):
            if "weight" in form.fields:
                form.fields["weight"].help_text = _(
                    "Set by the bandit (equal during its burn-in); what you type here is not used."
                )

        each_child_form(self.formsets.get("variants"), bandit_weight)

    # VALIDATION
    # --------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        if self._has_started():
            for name in FROZEN_ONCE_STARTED:
                cleaned[name] = getattr(self.instance, name)
        else:
            self._check_layer(cleaned)
        self._check_bandit(cleaned)
        return cleaned

    def _field_error(self, name: str, message: str) -> None:
        """Next to the field when a panel shows it; else at the top, naming the field."""
        if name in (self._meta.fields or ()):
            self.add_error(name, message)
        else:
            self.add_error(None, f"{self.fields[name].label}: {message}")

    def _check_layer(self, cleaned: dict) -> None:
        layer = cleaned.get("layer")
        start, end = cleaned.get("namespace_start"), cleaned.get("namespace_end")
        share = cleaned.get("layer_share")
        if layer is None:
            if share is not None or (start, end) not in ((None, None), (0.0, 1.0)):
                self._field_error("layer", _("Choose the layer this slice belongs to."))
            cleaned["namespace_start"], cleaned["namespace_end"] = 0.0, 1.0
            return
        taken = self._taken.get(layer.pk, [])
        if start is None and end is None:
            if share is not None and not 0 < share <= 1:
                self._field_error("layer_share", _("A share above 0 and at most 100 %."))
                return
            found = first_free_slice(taken, share)
            if found is None:
                self._field_error("layer", self._no_room(layer, taken, share))
                return
            start, end = found
        elif start is None or end is None:
            self._field_error(
                "namespace_start",
                _("Give both the start and the end, or neither to take the first free slice."),
            )
            return
        if not 0 <= start < end <= 1:
            self._field_error(
                "namespace_end",
                # xgettext:no-python-format
                _("The slice must start before it ends, within 0–100 % of the layer."),
            )
            return
        for other_start, other_end, name in taken:
            if start < other_end and other_start < end:
                self._field_error(
                    "namespace_start",
                    _(
                        "This slice (%(mine)s) overlaps “%(other)s” (%(theirs)s of the layer "
                        "“%(layer)s”): experiments in one layer must not share visitors."
                    )
                    % {
                        "mine": slice_label(start, end),
                        "other": name,
                        "theirs": slice_label(other_start, other_end),
                        "layer": layer.name,
                    },
                )
                return
        cleaned["namespace_start"], cleaned["namespace_end"] = start, end

    @staticmethod
    def _no_room(layer: Layer, taken: list[Slice], share: float | None) -> str:
        gaps = free_gaps(taken)
        if not gaps:
            return _("The layer “%(layer)s” is full: complete one of its experiments first.") % {
                "layer": layer.name
            }
        return _("No free slice of %(share)s in “%(layer)s”; free: %(room)s.") % {
            "share": _percent(share or 0),
            "layer": layer.name,
            "room": ", ".join(slice_label(s, e) for s, e in gaps),
        }

    def _check_bandit(self, cleaned: dict) -> None:
        if any(name in self._errors for name in BANDIT_FIELDS):
            return
        for name in BANDIT_FIELDS:  # left out or empty: as stored (the defaults when new)
            if cleaned.get(name) in (None, ""):
                cleaned[name] = getattr(self.instance, name)
        floor = cleaned["bandit_floor"]
        if not 0 <= floor < 0.5:
            self._field_error("bandit_floor", _("The floor must be at least 0 and below 50 %."))
            return
        if cleaned.get("allocation") != Allocation.BANDIT:
            return
        forms_ = self._kept_variant_forms()
        if forms_ is None:
            return
        if floor * len(forms_) > 1 + 1e-9:
            self._field_error(
                "bandit_floor",
                _(
                    "With %(count)d variants, a floor of %(floor)s would need %(total)s of the "
                    "traffic: at most %(most)s."
                )
                % {
                    "count": len(forms_),
                    "floor": _percent(floor),
                    "total": _percent(floor * len(forms_)),
                    "most": _percent(int(1 / len(forms_) * 10**6) / 10**6),
                },
            )
        self._bandit_weights(forms_)

    def _kept_variant_forms(self) -> list | None:
        """The variant forms kept on save (None when the formset itself has errors)."""
        formset = self.formsets.get("variants")
        if formset is None or not formset.is_valid():
            return None
        return [
            f
            for f in formset.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]

    def _bandit_weights(self, forms_: list) -> None:
        """A bandit's weights are its own: equal before it starts, the stored ones after."""
        stored = {}
        if self._has_started():
            stored = dict(
                Variant.objects.filter(experiment_id=self.instance.pk).values_list("pk", "weight")
            )
        equal = rounded_weights([1 / len(forms_)] * len(forms_)) if forms_ else []
        for form, weight in zip(forms_, equal, strict=True):
            if form.instance.pk in stored:
                weight = stored[form.instance.pk]
            form.cleaned_data["weight"] = form.instance.weight = weight

    def save(self, commit=True):
        for name in (*LAYER_FIELDS, *BANDIT_FIELDS):
            if name in self.cleaned_data and self.cleaned_data[name] is not None:
                setattr(self.instance, name, self.cleaned_data[name])
        if self.cleaned_data.get("layer") is None and "layer" in self.cleaned_data:
            self.instance.layer = None
        return super().save(commit=commit)
