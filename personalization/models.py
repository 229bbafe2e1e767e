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

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="events")
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
