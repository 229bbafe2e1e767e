"""Who the visitor is: member profiles, visitors and their rollups, events, segments."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.models import Orderable

from personalization.choices import Gender, Occupation, PetType, Region, Tier

OLDEST_MEMBER_AGE = 120
YOUNGEST_MEMBER_AGE = 13


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    """Whole years between `birth_date` and `today` (a birthday counts on the day)."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def validate_birth_date(value: datetime.date) -> None:
    """A birth date a real member could have: not in the future, age 13 to 120."""
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("Birth date cannot be in the future."))
    age = age_on(value, today)
    if age < YOUNGEST_MEMBER_AGE:
        raise ValidationError(
            _("Members must be at least %(age)s years old."), params={"age": YOUNGEST_MEMBER_AGE}
        )
    if age > OLDEST_MEMBER_AGE:
        raise ValidationError(_("Please check the year: that would make you over 120."))


class MemberProfile(models.Model):
    """The attributes a member declares about themselves, used by segments."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    birth_date = models.DateField(
        _("birth date"), null=True, blank=True, validators=[validate_birth_date]
    )
    gender = models.CharField(
        _("gender"), max_length=16, choices=Gender.choices, default=Gender.UNSPECIFIED
    )
    region = models.CharField(_("region"), max_length=16, choices=Region.choices, blank=True)
    occupation = models.CharField(
        _("occupation"), max_length=24, choices=Occupation.choices, default=Occupation.UNSPECIFIED
    )
    tier = models.CharField(
        _("membership tier"), max_length=16, choices=Tier.choices, default=Tier.REGULAR
    )
    pet_type = models.CharField(
        _("pet"), max_length=8, choices=PetType.choices, default=PetType.NONE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("member profile")

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def age(self) -> int | None:
        """Age today in the site's time zone, or None when no birth date is known."""
        if self.birth_date is None:
            return None
        return age_on(self.birth_date, timezone.localdate())


class Visitor(models.Model):
    """Someone browsing the site, anonymous or member: what segments and experiments count.

    Created by the event job on a visitor's first tracked action (never on the request path).
    The rollup fields are kept up to date by that job so that resolving segments never scans
    events.
    """

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visitor",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when this anonymous visitor logged in and was merged into a member.",
    )
    traits = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    visit_count = models.PositiveIntegerField(default=0)
    page_view_count = models.PositiveIntegerField(default=0)
    section_views = models.JSONField(default=dict, blank=True)
    tag_views = models.JSONField(default=dict, blank=True)
    cart = models.JSONField(default=dict, blank=True)
    purchase_count = models.PositiveIntegerField(default=0)
    total_spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    categories_bought = models.JSONField(default=dict, blank=True)
    first_purchase_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    offer_impressions = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["last_seen_at"])]

    def __str__(self) -> str:
        return f"Visitor {self.uuid}" + (f" ({self.user})" if self.user_id else "")


class ErasedVisitor(models.Model):
    """A visitor id whose data was erased: visitor tokens naming it are refused from then on,
    so nothing new is filed under it (the cookie path gives the browser a new id instead)."""

    uuid = models.UUIDField(primary_key=True)
    erased_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Erased visitor {self.uuid}"


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view", _("Page view")
    ADD_TO_CART = "add_to_cart", _("Add to cart")
    REMOVE_FROM_CART = "remove_from_cart", _("Remove from cart")
    CHECKOUT = "checkout", _("Checkout")
    PURCHASE = "purchase", _("Purchase")
    SIGN_UP = "sign_up", _("Sign-up")
    GOAL = "goal", _("Custom goal")
    OFFER_IMPRESSION = "offer_impression", _("Offer shown")


class Event(models.Model):
    """One thing a visitor did. Written in batches by the event job, never by a page view."""

    # No index of its own: the (visitor, occurred_at) index and the idempotency constraint both
    # lead with it, and a third index would only cost every insert.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    type = models.CharField(max_length=32, choices=EventType.choices)
    name = models.CharField(max_length=100, blank=True, help_text="Goal or offer name.")
    page = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(auto_now_add=True)
    # NULL, not "", when absent: the unique constraint must only bind events that carry a key.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="unique_event_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["visitor", "occurred_at"]),
            models.Index(fields=["type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_type_display()} by {self.visitor_id} at {self.occurred_at:%Y-%m-%d %H:%M}"
        )


class SegmentMatch(models.TextChoices):
    ALL = "all", _("all of the rules")
    ANY = "any", _("any of the rules")
    NONE = "none", _("none of the rules")


class Segment(ClusterableModel):
    """A group of visitors described by a condition over the attribute context."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(blank=True)
    persona_text = models.TextField(
        "persona", blank=True, help_text="Who these people are and what they need."
    )
    persona_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.IntegerField(
        default=0, help_text="When a visitor matches several segments, the highest priority wins."
    )
    enabled = models.BooleanField(default=True)
    match = models.CharField(
        "visitors match when they meet",
        max_length=8,
        choices=SegmentMatch.choices,
        default=SegmentMatch.ALL,
    )
    advanced = models.BooleanField(
        "edit the condition as JSON",
        default=False,
        help_text="For power users: the rules below are ignored and the JSON condition is used.",
    )
    condition = models.JSONField(
        default=dict,
        blank=True,
        help_text="GrowthBook-style JSON condition. Built from the rules unless 'edit as JSON' "
        "is ticked.",
    )
    size = models.PositiveIntegerField(null=True, blank=True, editable=False)
    size_members = models.PositiveIntegerField(null=True, blank=True, editable=False)
    size_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "name"]

    def __str__(self) -> str:
        return self.name


class SegmentRule(Orderable):
    """One row of a segment's rule builder: attribute, operator, value."""

    segment = ParentalKey(Segment, on_delete=models.CASCADE, related_name="rules")
    attribute = models.CharField(max_length=100)
    operator = models.CharField(max_length=16)
    value = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.attribute} {self.operator} {self.value}"


class SavedGroup(models.Model):
    """A named list of ids (e.g. member emails an editor uploaded) for `$inGroup` rules."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    values = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SegmentSetVersion(models.Model):
    """One row whose token changes whenever any segment or saved group changes, so every web
    process knows when to recompile its segments."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Segment set {self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


# CONSENT
# ------------------------------------------------------------------------------


class Consent(models.Model):
    """What a visitor or member agreed to: analytics, personalization and marketing.

    A member's record is keyed by their user (it follows them to every device); an anonymous
    visitor's by the visitor id in their cookie. The choice is also kept in a signed cookie so
    that serving a page never needs a query to know it.
    """

    visitor_uuid = models.UUIDField(null=True, blank=True, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="consent",
    )
    analytics = models.BooleanField(default=True)
    personalization = models.BooleanField(default=True)
    marketing = models.BooleanField(default=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visitor_uuid__isnull=False) | models.Q(user__isnull=False),
                name="consent_names_someone",
            )
        ]

    def __str__(self) -> str:
        who = self.user or self.visitor_uuid
        return f"Consent of {who}: {self.choices}"

    @property
    def choices(self) -> dict[str, bool]:
        return {
            "analytics": self.analytics,
            "personalization": self.personalization,
            "marketing": self.marketing,
        }


# JOURNEYS
# ------------------------------------------------------------------------------


class TimeUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


def duration(amount: int, unit: str) -> datetime.timedelta:
    """`amount` minutes, hours or days as a timedelta."""
    return datetime.timedelta(**{unit or TimeUnit.MINUTES: amount or 0})


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


class StepAction(models.TextChoices):
    EMAIL = "email", _("Send an email")
    ON_SITE = "on_site", _("Show an on-site message")
    WEBHOOK = "webhook", _("POST a signed webhook")


class EmailTemplate(models.Model):
    """An editor-written email: subject and body are templates filled with the visitor's data."""

    name = models.CharField(max_length=100, unique=True)
    subject = models.CharField(
        max_length=200, help_text="E.g. “{{ name|default:'Hello' }}, your cart is waiting”."
    )
    body_text = models.TextField(
        "plain-text body",
        help_text="Variables: {{ name }}, {{ email }}, {{ cart.items }}, {{ cart.count }}, "
        "{{ cart.value }}, {{ purchases.count }}, {{ site_name }}, {{ site_url }}, "
        "{{ unsubscribe_url }}. The unsubscribe link is added when the body does not use it.",
    )
    body_html = models.TextField(
        "HTML body", blank=True, help_text="Optional; same variables, values are escaped."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Reject a template Django cannot parse, with the parser's message."""
        from personalization.messaging import TemplateInvalid, template_check

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

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT
    )
    trigger = models.CharField(
        max_length=24, choices=TriggerKind.choices, default=TriggerKind.EVENT_WITHOUT_FOLLOW_UP
    )
    trigger_event = models.CharField(
        "trigger event", max_length=32, choices=EventType.choices, blank=True
    )
    trigger_name = models.CharField(
        max_length=100, blank=True, help_text="Only events with this name (goal or offer)."
    )
    follow_up_event = models.CharField(
        "unless followed by",
        max_length=32,
        choices=EventType.choices,
        blank=True,
        help_text="The event that cancels the journey when it follows within the window.",
    )
    window_amount = models.IntegerField(
        "window", default=0, help_text="How long to wait for the follow-up, or the dormancy."
    )
    window_unit = models.CharField(max_length=8, choices=TimeUnit.choices, default=TimeUnit.HOURS)
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Only visitors in this segment when a step is due.",
    )
    goal_event = models.CharField(
        "goal", max_length=32, choices=EventType.choices, default=EventType.PURCHASE
    )
    attribution_days = models.IntegerField(
        default=7, help_text="A goal reached this many days after a message counts as converted."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def window(self) -> datetime.timedelta:
        return duration(self.window_amount, self.window_unit)

    def clean(self) -> None:
        """Windows are never negative; each trigger names what it needs."""
        errors: dict[str, str] = {}
        if self.window_amount is not None and self.window_amount < 0:
            errors["window_amount"] = "The window cannot be negative."
        if self.attribution_days is not None and self.attribution_days < 0:
            errors["attribution_days"] = "The attribution window cannot be negative."
        event_triggered = self.trigger in (TriggerKind.EVENT, TriggerKind.EVENT_WITHOUT_FOLLOW_UP)
        if event_triggered and not self.trigger_event:
            errors["trigger_event"] = "Choose the event that starts the journey."
        if self.trigger == TriggerKind.EVENT_WITHOUT_FOLLOW_UP and not self.follow_up_event:
            errors["follow_up_event"] = "Choose the event that cancels the journey."
        needs_window = self.trigger != TriggerKind.EVENT and "window_amount" not in errors
        if needs_window and not self.window_amount:
            errors["window_amount"] = "This trigger needs a window longer than zero."
        if errors:
            raise ValidationError(errors)


def validate_webhook_url(value: str) -> None:
    """Webhooks go to http(s) URLs only (no file:, ftp:, javascript: …)."""
    from django.core.validators import URLValidator

    URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")(value)


def new_webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class JourneyStep(Orderable):
    """After a delay, one action: an email, an on-site message or a signed webhook."""

    journey = ParentalKey(Journey, on_delete=models.CASCADE, related_name="steps")
    delay_amount = models.IntegerField(
        "delay", default=0, help_text="After the trigger (first step) or the previous step."
    )
    delay_unit = models.CharField(max_length=8, choices=TimeUnit.choices, default=TimeUnit.HOURS)
    action = models.CharField(max_length=16, choices=StepAction.choices, default=StepAction.EMAIL)
    email_template = models.ForeignKey(
        EmailTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message_title = models.CharField(max_length=120, blank=True)
    message_text = models.TextField(
        blank=True, help_text="On-site message; {{ name }} and the email variables work here too."
    )
    message_link = models.CharField(max_length=500, blank=True, help_text="E.g. /shop/cart/")
    webhook_url = models.CharField(max_length=500, blank=True, validators=[validate_webhook_url])
    webhook_secret = models.CharField(
        max_length=64,
        default=new_webhook_secret,
        help_text="Signs each POST: X-Pawprint-Signature: t=<unix time>,v1=<HMAC-SHA256 hex of "
        "“t.body”>.",
    )

    def __str__(self) -> str:
        return f"{self.get_action_display()} after {self.delay_amount} {self.delay_unit}"

    @property
    def delay(self) -> datetime.timedelta:
        return duration(self.delay_amount, self.delay_unit)

    def clean(self) -> None:
        """Delays are never negative; each action names what it sends."""
        errors: dict[str, str] = {}
        if self.delay_amount is not None and self.delay_amount < 0:
            errors["delay_amount"] = "The delay cannot be negative."
        if self.action == StepAction.EMAIL and not self.email_template_id:
            errors["email_template"] = "Choose the email to send."
        if self.action == StepAction.ON_SITE and not self.message_text.strip():
            errors["message_text"] = "Write the message to show."
        if self.action == StepAction.WEBHOOK:
            if not self.webhook_url:
                errors["webhook_url"] = "Give the URL to POST to."
            else:
                try:
                    validate_webhook_url(self.webhook_url)
                except ValidationError as exc:
                    errors["webhook_url"] = exc.messages[0]
        if self.action == StepAction.ON_SITE:
            from personalization.messaging import TemplateInvalid, template_check

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
        "messages per visitor per day", default=1, help_text="Across all journeys; 0 = no limit."
    )
    max_per_week = models.PositiveSmallIntegerField(
        "messages per visitor per week", default=3, help_text="Monday to Sunday; 0 = no limit."
    )
    quiet_hours_start = models.TimeField(
        null=True,
        blank=True,
        default=datetime.time(21, 0),
        help_text="No message goes out from this time … (site time zone; blank = none)",
    )
    quiet_hours_end = models.TimeField(
        null=True, blank=True, default=datetime.time(8, 0), help_text="… until this time."
    )

    class Meta:
        verbose_name = "journey messaging"

    def __str__(self) -> str:
        return "Journey messaging"


# PERIODIC JOBS
# ------------------------------------------------------------------------------


class PeriodicJobOutcome(models.TextChoices):
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class PeriodicJobRun(models.Model):
    """The latest run of one periodic job of `settings.PERIODIC_JOBS`, whoever ran it (an RQ
    worker, the embedded scheduler or `run_periodic_jobs`): what the admin's status shows."""

    name = models.CharField(_("job"), max_length=100, unique=True)
    started_at = models.DateTimeField(_("last started"))
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=PeriodicJobOutcome.choices)
    detail = models.TextField(_("result or error"), blank=True)
    succeeded_at = models.DateTimeField(_("last succeeded"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("periodic job run")

    def __str__(self) -> str:
        return f"{self.name}: {self.outcome} at {self.started_at:%Y-%m-%d %H:%M}"
