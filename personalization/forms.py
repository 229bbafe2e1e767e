"""Admin forms: the segment editor turns rule rows into the stored JSON condition."""

from __future__ import annotations

from django import forms
from django.utils.text import slugify
from wagtail.admin.forms import WagtailAdminModelForm

from personalization.attributes import static_attributes
from personalization.conditions import ConditionError, validate_condition
from personalization.rules import Rule, RuleError, condition_from_rules, rule_clause


def attribute_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The rule builder's attribute list, grouped; dynamic keys for each section and tag."""
    from wagtail.models import Page

    groups: dict[str, list[tuple[str, str]]] = {}
    for attribute in static_attributes():
        groups.setdefault(attribute.group, []).append((attribute.key, attribute.label))
    site_root_children = Page.objects.filter(depth=3).live().order_by("path")
    groups["Behaviour"] += [
        (f"views.section.{page.slug}", f"Views of section: {page.title}")
        for page in site_root_children
    ]
    groups["Purchases"] += [
        (f"purchases.category_days.{name}", f"Days since last bought: {name}")
        for name in purchase_categories()
    ]
    return list(groups.items())


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
            raise forms.ValidationError("This JSON is nested too deeply.", code="invalid") from None

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
            self.fields["slug"].help_text = "Left blank, it is made from the name."
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
                self.add_error("slug", "Give the segment a slug (letters, numbers, hyphens).")
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
            self.add_error("condition", f"This condition cannot be used: {exc}")
            return
        except RecursionError:
            self.add_error("condition", "This JSON is nested too deeply.")
            return
        if not condition:
            self.add_error("condition", "An empty condition would match every visitor.")

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
            self.add_error(None, "Some rules need fixing (see below).")
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
            choices.append(("Other", [(value, value)]))
        self.choices = choices
        return super().get_context(name, value, attrs)
