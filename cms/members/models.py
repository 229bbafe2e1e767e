"""What a member declares about themselves (birth date, region, pet …), read by segments."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personalization.choices import Gender, Occupation, PetType, Region, Tier
from personalization.models import age_on

OLDEST_MEMBER_AGE = 120
YOUNGEST_MEMBER_AGE = 13


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
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_(
            "The site's language when the member last signed up, logged in or saved their "
            "profile; journey e-mails are written in it."
        ),
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
