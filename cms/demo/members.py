"""The demo members with their profiles, and the demo superuser for the Wagtail admin."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from cms.members.models import MemberProfile

User = get_user_model()


DEMO_MEMBER_PASSWORD = "pawprint-demo"

DEMO_MEMBERS = [
    {
        "email": "hanako@example.com",
        "name": "Hanako",
        "birth": (1999, 4, 12),
        "gender": "female",
        "region": "tokyo",
        "occupation": "office_worker",
        "tier": "gold",
        "pet": "dog",
    },
    {
        "email": "taro@example.com",
        "name": "Taro",
        "birth": (1980, 9, 3),
        "gender": "male",
        "region": "osaka",
        "occupation": "self_employed",
        "tier": "regular",
        "pet": "cat",
    },
    {
        "email": "yuki@example.com",
        "name": "Yuki",
        "birth": (2001, 1, 22),
        "gender": "female",
        "region": "tokyo",
        "occupation": "student",
        "tier": "silver",
        "pet": "cat",
    },
    {
        "email": "kenji@example.com",
        "name": "Kenji",
        "birth": (1962, 11, 30),
        "gender": "male",
        "region": "hokkaido",
        "occupation": "retired",
        "tier": "platinum",
        "pet": "dog",
    },
    {
        "email": "emma@example.com",
        "name": "Emma",
        "birth": (1991, 7, 8),
        "gender": "female",
        "region": "overseas",
        "occupation": "other",
        "tier": "regular",
        "pet": "none",
    },
]


@transaction.atomic
def ensure_member(spec: dict) -> User:
    """A demo member with the profile `spec` describes."""
    user = User.objects.filter(username=spec["email"]).first()
    if user is None:
        user = User.objects.create_user(
            username=spec["email"],
            email=spec["email"],
            password=DEMO_MEMBER_PASSWORD,
            first_name=spec["name"],
        )
    MemberProfile.objects.get_or_create(
        user=user,
        defaults={
            "birth_date": datetime.date(*spec["birth"]),
            "gender": spec["gender"],
            "region": spec["region"],
            "occupation": spec["occupation"],
            "tier": spec["tier"],
            "pet_type": spec["pet"],
        },
    )
    return user


def ensure_admin() -> tuple[User, bool]:
    """The demo superuser for the Wagtail admin; returns (user, created)."""
    user = User.objects.filter(username=settings.DEMO_ADMIN_USERNAME).first()
    if user:
        return user, False
    user = User.objects.create_superuser(
        username=settings.DEMO_ADMIN_USERNAME,
        email="admin@example.com",
        password=settings.DEMO_ADMIN_PASSWORD,
    )
    return user, True
