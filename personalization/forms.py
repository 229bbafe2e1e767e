"""Admin forms: the segment editor turns rule rows into the stored JSON condition, with typed
rows (each attribute offers only its operators and a value input of its type, see
`static/js/segment-rules.js`), and reads a draft of rules for the reach estimate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.templatetags.static import static
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm

from personalization.attributes import attribute_for, group_label, static_attributes
from personalization.conditions import ConditionError, validate_condition
from personalization.rules import (
    OPERATOR_CHOICES,
    Rule,
    RuleError,
    condition_from_rules,
    operator_label,
    operators_for,
    rule_clause,
)

MAX_DRAFT_RULES = 100  # rows read from a draft for the reach estimate (a form has a handful)


def attribute_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The rule builder's attribute list, grouped; dynamic keys for each section and tag."""
    from wagtail.models import Page

    groups: dict[str, list[tuple[str, str]]] = {}
    for attribute in static_attributes():
        groups.setdefault(attribute.group, []).append((attribute.key, attribute.label))
    site_root_children = Page.objects.filter(depth=3).live().order_by("path")
    groups["Behaviour"] += [
        (
            f"views.section.{page.slug}",
            _("Views of section: %(section)s") % {"section": page.title},
        )
        for page in site_root_children
    ]
    groups["Purchases"] += [
        (
            f"purchases.category_days.{name}",
            _("Days since last bought: %(category)s") % {"category": name},
        )
        for name in purchase_categories()
    ]
    return [(group_label(group), choices) for group, choices in groups.items()]


def purchase_categories() -> list[str]:
    """Product categories to offer in rules: configured ones plus any rules already use."""
    from django.conf import settings

    from personalization.models import SegmentRule

    used = SegmentRule.objects.filter(attribute__startswith="purchases.category_days.").values_list(
        "attribute", flat=True
    )
    names = set(getattr(settings, "PURCHASE_CATEGORIES", []))
    names |= {key.removeprefix("purchases.category_days.") for key in used}
    return sorted(names)


class ConditionJSONField(forms.JSONField):
    """Django's JSON form field, with JSON nested too deeply for Python's decoder refused with
    a message (Django catches only JSONDecodeError, so the RecursionError was a 500)."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(
                _("This JSON is nested too deeply."), code="invalid"
            ) from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class SegmentAdminForm(WagtailAdminModelForm):
    """Validates each rule row with a message next to it and stores the combined condition."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = gettext_lazy("Left blank, it is made from the name.")
        if "condition" in self.fields:
            field = self.fields["condition"]
            self.fields["condition"] = ConditionJSONField(
                required=False,
                label=field.label,
                help_text=field.help_text,
                widget=field.widget,
                encoder=field.encoder,
                decoder=field.decoder,
            )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("slug") and cleaned.get("name"):
            cleaned["slug"] = slugify(cleaned["name"], allow_unicode=True)[:100] or None
            if not cleaned["slug"]:
                self.add_error("slug", _("Give the segment a slug (letters, numbers, hyphens)."))
        if cleaned.get("advanced"):
            self._clean_json_condition(cleaned)
        else:
            self._clean_rules(cleaned)
        return cleaned

    def _clean_json_condition(self, cleaned) -> None:
        condition = cleaned.get("condition")
        if "condition" in self.errors:
            return
        try:
            validate_condition(condition)
        except ConditionError as exc:
            self.add_error("condition", _("This condition cannot be used: %s") % exc)
            return
        except RecursionError:
            self.add_error("condition", _("This JSON is nested too deeply."))
            return
        if not condition:
            self.add_error("condition", _("An empty condition would match every visitor."))

    def _clean_rules(self, cleaned) -> None:
        formset = self.formsets.get("rules")
        if formset is None or not formset.is_valid():
            return
        rules = []
        for form in formset.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            rule = Rule(data.get("attribute", ""), data.get("operator", ""), data.get("value", ""))
            try:
                rule_clause(rule)
            except RuleError as exc:
                form.add_error("value", str(exc))
                continue
            rules.append(rule)
        if any(form.errors for form in formset.forms):
            self.add_error(None, _("Some rules need fixing (see below)."))
            return
        try:
            condition = condition_from_rules(cleaned.get("match", "all"), rules)
            validate_condition(condition)
        except (RuleError, ConditionError) as exc:
            self.add_error(None, str(exc))
            return
        cleaned["condition"] = condition


class SegmentRuleAttributeSelect(forms.Select):
    """The attribute dropdown; its options are read when the form is drawn (sections change)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=())

    def get_context(self, name, value, attrs):
        choices = attribute_choices()
        known = {key for _, options in choices for key, _ in options}
        if value and value not in known:  # never let a saved rule silently become another
            choices.append((_("Other"), [(value, value)]))
        self.choices = choices
        return super().get_context(name, value, attrs)


class SegmentRuleOperatorSelect(forms.Select):
    """The operator dropdown: every operator here, narrowed to the attribute's in the browser."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=OPERATOR_CHOICES)


class SegmentRuleValueInput(forms.TextInput):
    """The value as stored (text); the browser shows a typed input in its place: a dropdown of
    known values, a number, two numbers for a range, nothing for "is known"."""

    template_name = "personalization/admin/widgets/rule_value.html"

    def __init__(self, attrs=None):
        words = {
            "data-segment-rule-target": "raw",
            "data-label": gettext_lazy("Value"),
            "data-from": gettext_lazy("From"),
            "data-to": gettext_lazy("To"),
            # Between a range's two numbers: "20 and 29", in Japanese "20 ～ 29".
            "data-and": pgettext_lazy("between the two numbers of a range", "and"),
        }
        super().__init__({**words, **(attrs or {})})

    @property
    def media(self):
        return forms.Media(
            css={"all": [static("css/segment-rules.css")]},
            js=[static("js/segment-rules.js")],
        )


def rule_builder_attributes() -> dict[str, dict[str, Any]]:
    """What the browser needs to type each row: per attribute key, its kind, label, known
    values and the operators that fit it (in the editor's language)."""
    described: dict[str, dict[str, Any]] = {}
    for _group, options in attribute_choices():
        for key, _label in options:
            attribute = attribute_for(key)
            if attribute is None:
                continue
            described[key] = {
                "kind": attribute.kind,
                "label": str(attribute.label),
                "choices": [[value, str(label)] for value, label in attribute.choices],
                "operators": [
                    [op, operator_label(op, attribute.kind)] for op in operators_for(attribute)
                ],
            }
    return described


# THE DRAFT OF THE REACH ESTIMATE
# ------------------------------------------------------------------------------


@dataclass
class SegmentDraft:
    """The rules being edited, read from the segment form's fields as the browser has them."""

    condition: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _draft_rows(data) -> list[tuple[str, Rule]]:
    try:
        total = int(data.get("rules-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        total = 0
    rows = []
    for index in range(min(max(total, 0), MAX_DRAFT_RULES)):
        prefix = f"rules-{index}"
        if data.get(f"{prefix}-DELETE") or f"{prefix}-attribute" not in data:
            continue
        rule = Rule(
            str(data.get(f"{prefix}-attribute", ""))[:100],
            str(data.get(f"{prefix}-operator", ""))[:16],
            str(data.get(f"{prefix}-value", ""))[:500],
        )
        rows.append((prefix, rule))
    return rows


def _draft_json(text: str) -> SegmentDraft:
    try:
        condition = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return SegmentDraft(errors={"condition": _("This is not valid JSON.")})
    try:
        validate_condition(condition)
    except ConditionError as exc:
        return SegmentDraft(errors={"condition": _("This condition cannot be used: %s") % exc})
    except RecursionError:
        return SegmentDraft(errors={"condition": _("This JSON is nested too deeply.")})
    if not condition:
        return SegmentDraft(
            errors={"condition": _("An empty condition would match every visitor.")}
        )
    return SegmentDraft(condition=condition)


def segment_draft(data) -> SegmentDraft:
    """The condition of the rules in `data` (the segment form's POST), or one short message
    per field that needs fixing; never raises on a half-typed rule."""
    if data.get("advanced"):
        return _draft_json(str(data.get("condition", "")))
    errors: dict[str, str] = {}
    rules = []
    for prefix, rule in _draft_rows(data):
        try:
            rule_clause(rule)
        except RuleError as exc:
            errors[f"{prefix}-value"] = str(exc)
            continue
        rules.append(rule)
    if errors:
        return SegmentDraft(errors=errors)
    try:
        condition = condition_from_rules(str(data.get("match", "all")), rules)
        validate_condition(condition)
    except (RuleError, ConditionError) as exc:
        return SegmentDraft(errors={"__all__": str(exc)})
    return SegmentDraft(condition=condition)
