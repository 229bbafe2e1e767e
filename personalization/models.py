"""Who the visitor is: visitors and their rollups, erased ids, consent, segments, periodic job
runs."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    """Whole years between `birth_date` and `today` (a birthday counts on the day)."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


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
    # Commerce rollups (kept by the event job and the catalogue's jobs, read with the visitor):
    # favourites by SKU, recently viewed and bought products by SKU.
    favourites_rollup = models.JSONField(default=dict, blank=True)
    products_viewed = models.JSONField(default=dict, blank=True)
    products_bought = models.JSONField(default=dict, blank=True)

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


class SegmentMatch(models.TextChoices):
    ALL = "all", _("all of the rules")
    ANY = "any", _("any of the rules")
    NONE = "none", _("none of the rules")


class Segment(ClusterableModel):
    """A group of visitors described by a condition over the attribute context."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    persona_text = models.TextField(
        _("persona"), blank=True, help_text=_("Who these people are and what they need.")
    )
    persona_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("persona image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    priority = models.IntegerField(
        _("priority"),
        default=0,
        help_text=_("When a visitor matches several segments, the highest priority wins."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    match = models.CharField(
        _("visitors match when they meet"),
        max_length=8,
        choices=SegmentMatch.choices,
        default=SegmentMatch.ALL,
    )
    advanced = models.BooleanField(
        _("edit the condition as JSON"),
        default=False,
        help_text=_("For power users: the rules below are ignored and the JSON condition is used."),
    )
    condition = models.JSONField(
        _("condition"),
        default=dict,
        blank=True,
        help_text=_(
            "GrowthBook-style JSON condition. Built from the rules unless 'edit as JSON' is ticked."
        ),
    )
    size = models.PositiveIntegerField(null=True, blank=True, editable=False)
    size_members = models.PositiveIntegerField(null=True, blank=True, editable=False)
    size_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentRule(Orderable):
    """One row of a segment's rule builder: attribute, operator, value."""

    segment = ParentalKey(Segment, on_delete=models.CASCADE, related_name="rules")
    attribute = models.CharField(_("attribute"), max_length=100)
    operator = models.CharField(_("operator"), max_length=16)
    value = models.CharField(_("value"), max_length=500, blank=True)

    class Meta(Orderable.Meta):
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return f"{self.attribute} {self.operator} {self.value}"


class SavedGroup(models.Model):
    """A named list of ids (e.g. member emails an editor uploaded) for `$inGroup` rules."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    values = models.JSONField(_("values"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved group")
        verbose_name_plural = _("saved groups")

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
