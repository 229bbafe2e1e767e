"""Member accounts: creating one, and the profile a member declares. Views call these."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from cms.members.models import MemberProfile

User = get_user_model()


class MemberAlreadyExists(ValueError):
    """Someone already signed up with this email address."""


@transaction.atomic
def member_create(*, email: str, name: str, password: str) -> AbstractBaseUser:
    """Create a member account (username = normalised email) with an empty profile."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(username__iexact=email).exists():
        raise MemberAlreadyExists(email)
    user = User.objects.create_user(
        username=email, email=email, password=password, first_name=name.strip()
    )
    MemberProfile.objects.create(user=user)
    return user


def member_profile(*, user: AbstractBaseUser) -> MemberProfile:
    """The member's profile, created on first access for accounts made before profiles."""
    profile, _ = MemberProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def member_profile_update(
    *,
    user: AbstractBaseUser,
    name: str,
    birth_date: datetime.date | None,
    gender: str,
    region: str,
    occupation: str,
    pet_type: str,
) -> MemberProfile:
    """Save what a member declares about themselves (the tier is set by staff, not here)."""
    user.first_name = name.strip()
    user.save(update_fields=["first_name"])
    profile = member_profile(user=user)
    profile.birth_date = birth_date
    profile.gender = gender
    profile.region = region
    profile.occupation = occupation
    profile.pet_type = pet_type
    profile.full_clean(exclude=["user"])
    profile.save()
    return profile


def member_language_remember(*, user: AbstractBaseUser, language: str | None) -> None:
    """Remember the site language a member is using (their journey e-mails are written in it).

    Only the site's languages are kept; anything else leaves what was known."""
    codes = {code for code, _name in settings.LANGUAGES}
    code = (language or "").split("-")[0].lower()
    if code not in codes:
        return
    profile = member_profile(user=user)
    if profile.language != code:
        MemberProfile.objects.filter(pk=profile.pk).update(language=code)
