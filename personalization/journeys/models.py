"""Journeys: triggered sequences of emails, on-site messages and webhooks, and what they sent."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.models import Orderable

from personalization.events.models import EventType
from personalization.models import Segment, Visitor


class TimeUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


def duration(amount: int, unit: str) -> datetime.timedelta:
    """`amount` minutes, hours or days as a timedelta."""
    return datetime.timedelta(**{unit or TimeUnit.MINUTES: amount or 0})


def duration_label(amount: int, unit: str) -> str:
    """ "1 day", "2 days", "0 hours": an amount of a unit, in the language's plural form."""
    amount = amount or 0
    forms = {
        TimeUnit.MINUTES: ngettext("%(count)d minute", "%(count)d minutes", amount),
        TimeUnit.HOURS: ngettext("%(count)d hour", "%(count)d hours", amount),
        TimeUnit.DAYS: ngettext("%(count)d day", "%(count)d days", amount),
    }
    return forms.get(unit, forms[TimeUnit.MINUTES]) % {"count": amount}


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


class TriggerKind(models.TextChoices):
    EVENT = "event", _("An event happens")
    EVENT_WITHOUT_FOLLOW_UP = (
        "event_without",
        _("An event happens and another does not follow within the window"),
    )
    NO_VISIT = "no_visit", _("A member has not visited for the window")
    AFTER_FIRST_PURCHASE = "after_first_purchase", _("The window has passed since a first purchase")
    FAVOURITE_LOW_STOCK = "favourite_low_stock", _("A favourite's stock falls to the threshold")
    FAVOURITE_BACK_IN_STOCK = "favourite_back", _("A favourite is back in stock")
    FAVOURITE_PRICE_DROP = "favourite_price_drop", _("A favourite's price drops")


# Triggers evaluated when the shop's feed changes products (`personalization.journeys.catalogue`).
CATALOGUE_TRIGGERS = (
    TriggerKind.FAVOURITE_LOW_STOCK,
    TriggerKind.FAVOURITE_BACK_IN_STOCK,
    TriggerKind.FAVOURITE_PRICE_DROP,
)


class StepAction(models.TextChoices):
    EMAIL = "email", _("Send an email")
    ON_SITE = "on_site", _("Show an on-site message")
    WEBHOOK = "webhook", _("POST a signed webhook")


class EmailTemplate(models.Model):
    """An editor-written email: subject and body are templates filled with the visitor's data."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    subject = models.CharField(
        _("subject"),
        max_length=200,
        help_text=_("E.g. “{{ name|default:'Hello' }}, your cart is waiting”."),
    )
    body_text = models.TextField(
        _("plain-text body"),
        help_text=_(
            "Variables: {{ name }}, {{ email }}, {{ cart.items }}, {{ cart.count }}, "
            "{{ cart.value }}, {{ purchases.count }}, {{ site_name }}, {{ site_url }}, "
            "{{ unsubscribe_url }}; for favourites' stock and price triggers, {{ products }} "
            "(each with name, sku, price, old_price, stock, url, image_url). "
            "The unsubscribe link is added when the body does not use it."
        ),
    )
    body_html = models.TextField(
        _("HTML body"), blank=True, help_text=_("Optional; same variables, values are escaped.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Reject a template Django cannot parse, with the parser's message."""
        from personalization.journeys.messaging import TemplateInvalid, template_check

        errors = {}
        for field in ("subject", "body_text", "body_html"):
            try:
                template_check(getattr(self, field))
            except TemplateInvalid as exc:
                errors[field] = str(exc)
        if errors:
            raise ValidationError(errors)


class Journey(ClusterableModel):
    """A triggered sequence of messages: trigger, optional segment, steps (delay + action)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT
    )
    trigger = models.CharField(
        _("trigger"),
        max_length=24,
        choices=TriggerKind.choices,
        default=TriggerKind.EVENT_WITHOUT_FOLLOW_UP,
    )
    trigger_event = models.CharField(
        _("trigger event"), max_length=32, choices=EventType.choices, blank=True
    )
    trigger_name = models.CharField(
        _("trigger name"),
        max_length=100,
        blank=True,
        help_text=_("Only events with this name (goal or offer)."),
    )
    follow_up_event = models.CharField(
        _("unless followed by"),
        max_length=32,
        choices=EventType.choices,
        blank=True,
        help_text=_("The event that cancels the journey when it follows within the window."),
    )
    window_amount = models.IntegerField(
        _("window"), default=0, help_text=_("How long to wait for the follow-up, or the dormancy.")
    )
    window_unit = models.CharField(
        _("window unit"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.HOURS
    )
    stock_threshold = models.PositiveIntegerField(
        _("stock threshold"),
        default=3,
        help_text=_("Low stock: the journey starts when a favourite's stock falls to this."),
    )
    price_drop_percent = models.PositiveIntegerField(
        _("price drop (%)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Price drop: starts when a favourite gets at least this much cheaper."),
    )
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Only visitors in this segment when a step is due."),
    )
    goal_event = models.CharField(
        _("goal"), max_length=32, choices=EventType.choices, default=EventType.PURCHASE
    )
    attribution_days = models.IntegerField(
        _("attribution days"),
        default=7,
        help_text=_("A goal reached this many days after a message counts as converted."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")

    def __str__(self) -> str:
        return self.name

    @property
    def window(self) -> datetime.timedelta:
        return duration(self.window_amount, self.window_unit)

    def clean(self) -> None:
        """Windows are never negative; each trigger names what it needs."""
        errors: dict[str, str] = {}
        if self.window_amount is not None and self.window_amount < 0:
            errors["window_amount"] = gettext("The window cannot be negative.")
        if self.attribution_days is not None and self.attribution_days < 0:
            errors["attribution_days"] = gettext("The attribution window cannot be negative.")
        event_triggered = self.trigger in (TriggerKind.EVENT, TriggerKind.EVENT_WITHOUT_FOLLOW_UP)
        if event_triggered and not self.trigger_event:
            errors["trigger_event"] = gettext("Choose the event that starts the journey.")
        if self.trigger == TriggerKind.EVENT_WITHOUT_FOLLOW_UP and not self.follow_up_event:
            errors["follow_up_event"] = gettext("Choose the event that cancels the journey.")
        needs_window = (
            self.trigger != TriggerKind.EVENT
            and self.trigger not in CATALOGUE_TRIGGERS
            and "window_amount" not in errors
        )
        if needs_window and not self.window_amount:
            errors["window_amount"] = gettext("This trigger needs a window longer than zero.")
        if self.trigger == TriggerKind.FAVOURITE_LOW_STOCK and not self.stock_threshold:
            errors["stock_threshold"] = gettext(
                "The stock threshold must be at least 1 (a stock of 0 is out of stock)."
            )
        percent = self.price_drop_percent
        if self.trigger == TriggerKind.FAVOURITE_PRICE_DROP and not (
            percent is not None and 1 <= percent <= 99
        ):
            errors["price_drop_percent"] = gettext("The price drop must be between 1 and 99 %.")
        if errors:
            raise ValidationError(errors)


def validate_webhook_url(value: str) -> None:
    """Webhooks go to http(s) URLs only (no file:, ftp:, javascript: …)."""
    from django.core.validators import URLValidator

    URLValidator(schemes=["http", "https"], message=_("Enter an http:// or https:// URL."))(value)


def new_webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class JourneyStep(Orderable):
    """After a delay, one action: an email, an on-site message or a signed webhook."""

    journey = ParentalKey(
        Journey, verbose_name=_("journey"), on_delete=models.CASCADE, related_name="steps"
    )
    delay_amount = models.IntegerField(
        _("delay"), default=0, help_text=_("After the trigger (first step) or the previous step.")
    )
    delay_unit = models.CharField(
        _("delay unit"), max_length=8, choices=TimeUnit.choices, default=TimeUnit.HOURS
    )
    action = models.CharField(
        _("action"), max_length=16, choices=StepAction.choices, default=StepAction.EMAIL
    )
    email_template = models.ForeignKey(
        EmailTemplate,
        verbose_name=_("email template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    message_title = models.CharField(_("message title"), max_length=120, blank=True)
    message_text = models.TextField(
        _("message text"),
        blank=True,
        help_text=_("On-site message; {{ name }} and the email variables work here too."),
    )
    message_link = models.CharField(
        _("message link"), max_length=500, blank=True, help_text=_("E.g. /shop/cart/")
    )
    webhook_url = models.CharField(
        _("webhook URL"), max_length=500, blank=True, validators=[validate_webhook_url]
    )
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=64,
        default=new_webhook_secret,
        help_text=_(
            "Signs each POST: X-Pawprint-Signature: t=<unix time>,v1=<HMAC-SHA256 hex of “t.body”>."
        ),
    )

    class Meta(Orderable.Meta):
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self) -> str:
        return gettext("%(action)s after %(delay)s") % {
            "action": self.get_action_display(),
            "delay": duration_label(self.delay_amount, self.delay_unit),
        }

    @property
    def delay(self) -> datetime.timedelta:
        return duration(self.delay_amount, self.delay_unit)

    def clean(self) -> None:
        """Delays are never negative; each action names what it sends."""
        errors: dict[str, str] = {}
        if self.delay_amount is not None and self.delay_amount < 0:
            errors["delay_amount"] = gettext("The delay cannot be negative.")
        if self.action == StepAction.EMAIL and not self.email_template_id:
            errors["email_template"] = gettext("Choose the email to send.")
        if self.action == StepAction.ON_SITE and not self.message_text.strip():
            errors["message_text"] = gettext("Write the message to show.")
        if self.action == StepAction.WEBHOOK:
            if not self.webhook_url:
                errors["webhook_url"] = gettext("Give the URL to POST to.")
            else:
                try:
                    validate_webhook_url(self.webhook_url)
                except ValidationError as exc:
                    errors["webhook_url"] = exc.messages[0]
        if self.action == StepAction.ON_SITE:
            from personalization.journeys.messaging import TemplateInvalid, template_check

            for name in ("message_title", "message_text"):
                try:
                    template_check(getattr(self, name))
                except TemplateInvalid as exc:
                    errors.setdefault(name, str(exc))
        if errors:
            raise ValidationError(errors)


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for the next step")
    DONE = "done", _("All steps run")
    CANCELLED = "cancelled", _("Cancelled by the follow-up event")
    EXITED = "exited", _("Left the segment")
    SUPPRESSED = "suppressed", _("Stopped: no marketing consent")


class JourneyEntry(models.Model):
    """One visitor's way through a journey, from one trigger (its key makes entry idempotent)."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="entries")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    trigger_key = models.CharField(max_length=80)
    # Plain ids, not foreign keys: raw events are purged after the retention period.
    trigger_event_id = models.BigIntegerField(null=True, blank=True)
    trigger_context = models.JSONField(default=dict, blank=True)
    triggered_at = models.DateTimeField()
    entered_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    next_step = models.PositiveSmallIntegerField(default=0)
    step_base_at = models.DateTimeField(help_text="When the wait for the next step began.")
    next_run_at = models.DateTimeField(null=True, blank=True)
    first_messaged_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "journey entries"
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "trigger_key"], name="unique_journey_entry_trigger"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_run_at"]),
            models.Index(fields=["visitor", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.journey} for {self.visitor_id} ({self.status})"


class MessageStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    PENDING = "pending", _("Delivering (retrying)")
    FAILED = "failed", _("Failed")
    SUPPRESSED_CAP = "suppressed_cap", _("Suppressed by the frequency cap")
    SUPPRESSED_CONSENT = "suppressed_consent", _("Suppressed: no marketing consent")
    SKIPPED = "skipped", _("Skipped: nowhere to send")


class JourneyMessage(models.Model):
    """What one step did for one entry: sent, suppressed (and why), or failed."""

    entry = models.ForeignKey(JourneyEntry, on_delete=models.CASCADE, related_name="messages")
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="messages")
    step = models.ForeignKey(
        JourneyStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=StepAction.choices)
    status = models.CharField(max_length=24, choices=MessageStatus.choices)
    detail = models.CharField(max_length=300, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="On-site message text, or the webhook body.")
    link = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    shown_at = models.DateTimeField(null=True, blank=True)
    # Opened links of an email (`personalization.journeys.links`): how many times, and the first.
    clicks = models.PositiveIntegerField(default=0)
    first_clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "step"], name="unique_message_per_step")
        ]
        indexes = [
            models.Index(fields=["visitor", "status", "sent_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.visitor_id}: {self.status}"


@register_setting(icon="mail")
class MessagingSettings(BaseGenericSetting):
    """Caps across all journeys, and quiet hours in the site's time zone."""

    max_per_day = models.PositiveSmallIntegerField(
        _("messages per visitor per day"),
        default=1,
        help_text=_("Across all journeys; 0 = no limit."),
    )
    max_per_week = models.PositiveSmallIntegerField(
        _("messages per visitor per week"),
        default=3,
        help_text=_("Monday to Sunday; 0 = no limit."),
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours start"),
        null=True,
        blank=True,
        default=datetime.time(21, 0),
        help_text=_("No message goes out from this time … (site time zone; blank = none)"),
    )
    quiet_hours_end = models.TimeField(
        _("quiet hours end"),
        null=True,
        blank=True,
        default=datetime.time(8, 0),
        help_text=_("… until this time."),
    )

    class Meta:
        verbose_name = _("journey messaging")

    def __str__(self) -> str:
        return gettext("Journey messaging")
