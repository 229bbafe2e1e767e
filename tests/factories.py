"""factory_boy factories for members and their profiles."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from cms.members.models import MemberProfile

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}@example.com")
    email = factory.SelfAttribute("username")
    first_name = factory.Sequence(lambda n: f"Member{n}")
    password = factory.django.Password(PASSWORD)


class MemberProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberProfile

    user = factory.SubFactory(UserFactory)
    birth_date = factory.LazyFunction(
        lambda: datetime.date.today().replace(year=datetime.date.today().year - 25, day=1)
    )
    gender = "female"
    region = "tokyo"
    occupation = "office_worker"
    tier = "regular"
    pet_type = "dog"


class MemberFactory(UserFactory):
    """A user with a profile attached."""

    profile = factory.RelatedFactory(MemberProfileFactory, factory_related_name="user")
