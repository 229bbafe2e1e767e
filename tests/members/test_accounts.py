"""Member accounts: sign-up, log-in/out, password reset and profile editing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from cms.members.models import MemberProfile
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()

VALID_SIGN_UP = {
    "name": "Sakura",
    "email": "Sakura@Example.com",
    "password1": "walkies-at-dawn-42",
    "password2": "walkies-at-dawn-42",
}


def test_sign_up_creates_member_and_profile_and_logs_in(client):
    response = client.post("/account/signup/", VALID_SIGN_UP)
    assert response.status_code == 302
    assert response["Location"] == "/account/profile/"
    user = User.objects.get(username="sakura@example.com")
    assert user.first_name == "Sakura"
    assert MemberProfile.objects.filter(user=user).exists()
    assert client.get("/account/profile/").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password2": "something-else-99"}, "password2", "do not match"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"name": "   "}, "name", "This field is required"),
        ({"password1": "123", "password2": "123"}, "password1", "too short"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"name": "<b>Eve</b>"}, "name", "Names cannot contain"),
        ({"name": "{{ request.user }}"}, "name", "Names cannot contain"),
    ],
)
def test_sign_up_with_invalid_data_answers_400_and_saves_nothing(client, changes, field, message):
    users_before = User.objects.count()
    response = client.post("/account/signup/", {**VALID_SIGN_UP, **changes})
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert User.objects.count() == users_before


def test_sign_up_with_an_existing_email_is_refused(client, member):
    response = client.post("/account/signup/", {**VALID_SIGN_UP, "email": member.email.upper()})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert User.objects.filter(username__iexact=member.email).count() == 1


def test_log_in_with_a_wrong_password_answers_400(client, member):
    response = client.post("/account/login/", {"username": member.email, "password": "nope"})
    assert response.status_code == 400
    assert "correct" in response.content.decode()


def test_log_out_ends_the_session(member_client):
    response = member_client.post("/account/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert member_client.get("/account/profile/").status_code == 302


def test_password_reset_mails_a_working_link(client, member):
    response = client.post("/account/password-reset/", {"email": member.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/account/password-reset/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    new_password = "a-brand-new-secret-7"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.check_password(new_password)
    assert not member.check_password(PASSWORD)


def test_profile_page_requires_log_in(client):
    response = client.get("/account/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_member_edits_profile_and_sees_derived_age(member_client, member):
    birth = datetime.date(1996, 5, 17)
    response = member_client.post(
        "/account/profile/",
        {
            "name": "Hana",
            "birth_date": birth.isoformat(),
            "gender": "female",
            "region": "kanagawa",
            "occupation": "student",
            "pet_type": "cat",
        },
    )
    assert response.status_code == 302
    profile = MemberProfile.objects.get(user=member)
    assert (profile.region, profile.pet_type, profile.birth_date) == ("kanagawa", "cat", birth)
    member.refresh_from_db()
    assert member.first_name == "Hana"
    page = member_client.get("/account/profile/").content.decode()
    assert f"<dd>{profile.age}</dd>" in page
    assert "Your profile has been saved." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": "2999-01-01"}, "birth_date", "cannot be in the future"),
        ({"birth_date": "1850-01-01"}, "birth_date", "over 120"),
        ({"birth_date": "yesterday"}, "birth_date", "YYYY-MM-DD"),
        ({"region": "atlantis"}, "region", "Select a valid choice"),
        ({"gender": ""}, "gender", "required"),
        ({"pet_type": "dragon"}, "pet_type", "Select a valid choice"),
        ({"occupation": "x" * 500}, "occupation", "Select a valid choice"),
        ({"name": "Hana <img src=x>"}, "name", "Names cannot contain"),
        ({"name": "Hana {x}"}, "name", "Names cannot contain"),
    ],
)
def test_invalid_profile_answers_400_and_changes_nothing(
    member_client, member, changes, field, message
):
    before = MemberProfile.objects.get(user=member)
    valid = {
        "name": "Hana",
        "birth_date": "1996-05-17",
        "gender": "female",
        "region": "tokyo",
        "occupation": "student",
        "pet_type": "cat",
    }
    response = member_client.post("/account/profile/", {**valid, **changes})
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    after = MemberProfile.objects.get(user=member)
    assert (after.birth_date, after.region, after.pet_type) == (
        before.birth_date,
        before.region,
        before.pet_type,
    )


def test_members_cannot_grant_themselves_a_tier(member_client, member):
    member_client.post(
        "/account/profile/",
        {
            "name": "Hana",
            "gender": "female",
            "occupation": "student",
            "pet_type": "cat",
            "tier": "platinum",
        },
    )
    assert MemberProfile.objects.get(user=member).tier == "regular"
