"""The journey forms: each trigger and each step action asks for its own fields only.

An e-mail step has no use for a webhook URL or secret, so those are optional in the form and
required (with the model's checks) only when the action is "POST a signed webhook". The editor's
script (`journeys/js/step_fields.js`) shows only the chosen action's fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from personalization.journeys.models import StepAction, TriggerKind, new_webhook_secret

# The fields each action uses; the others are hidden in the editor and ignored on save.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    StepAction.EMAIL: ("email_template",),
    StepAction.ON_SITE: ("message_title", "message_text", "message_link"),
    StepAction.WEBHOOK: ("webhook_url", "webhook_secret"),
}


class JourneyStepForm(WagtailAdminModelForm):
    """A step: delay, action and the chosen action's fields (a secret is made when none is
    given, so a step switched to a webhook later signs from the start)."""

    class Media:
        js = ["journeys/js/step_fields.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "webhook_secret" in self.fields:
            self.fields["webhook_secret"].required = False
        if "action" in self.fields:
            self.fields["action"].widget.attrs["data-journey-step-action"] = ""

    def clean(self) -> dict:
        cleaned = super().clean()
        self._ignore_other_actions(cleaned)
        if cleaned.get("action") == StepAction.WEBHOOK and not cleaned.get("webhook_secret"):
            self.add_error(
                "webhook_secret", forms.ValidationError(_("Give the secret that signs each POST."))
            )
        elif not cleaned.get("webhook_secret"):
            cleaned["webhook_secret"] = new_webhook_secret()
        return cleaned

    def _ignore_other_actions(self, cleaned: dict) -> None:
        """A hidden field of another action never blocks saving: when it is invalid (for the
        form or the model's validators), the step keeps its saved value instead."""
        chosen = ACTION_FIELDS.get(cleaned.get("action"), ())
        for name in {n for fields in ACTION_FIELDS.values() for n in fields} - set(chosen):
            if name in self._errors or not _valid_for_model(self.instance, name, cleaned.get(name)):
                self._errors.pop(name, None)
                cleaned[name] = getattr(self.instance, name)


def _valid_for_model(instance, name: str, value) -> bool:
    """Whether the model field's own validators (run after the form's) accept `value`."""
    field = instance._meta.get_field(name)
    if field.is_relation or value in field.empty_values:
        return True
    try:
        field.run_validators(value)
    except ValidationError:
        return False
    return True


# The fields each trigger uses (the others are hidden in the editor and ignored on save: the
# journey keeps its saved values, so a hidden field never blocks saving).
TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    TriggerKind.EVENT: ("trigger_event", "trigger_name"),
    TriggerKind.EVENT_WITHOUT_FOLLOW_UP: (
        "trigger_event",
        "trigger_name",
        "follow_up_event",
        "window_amount",
        "window_unit",
    ),
    TriggerKind.NO_VISIT: ("window_amount", "window_unit"),
    TriggerKind.AFTER_FIRST_PURCHASE: ("window_amount", "window_unit"),
    TriggerKind.FAVOURITE_LOW_STOCK: ("stock_threshold",),
    TriggerKind.FAVOURITE_BACK_IN_STOCK: (),
    TriggerKind.FAVOURITE_PRICE_DROP: ("price_drop_percent",),
}


class JourneyForm(WagtailAdminModelForm):
    """A journey: the chosen trigger's fields only (the editor's script
    `journeys/js/trigger_fields.js` hides the others)."""

    class Media:
        js = ["journeys/js/trigger_fields.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "trigger" in self.fields:
            self.fields["trigger"].widget.attrs["data-journey-trigger"] = ""

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen = set(TRIGGER_FIELDS.get(cleaned.get("trigger"), ()))
        for name in {n for fields in TRIGGER_FIELDS.values() for n in fields} - chosen:
            if name in self.fields:  # hidden: ignored, the journey keeps its saved value
                self._errors.pop(name, None)
                cleaned[name] = getattr(self.instance, name)
        return cleaned
