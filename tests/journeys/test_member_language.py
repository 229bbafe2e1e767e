"""Journey e-mails in the member's language: the site language a member last logged in or saved
their profile in is remembered, and the e-mail's own lines (the unsubscribe line, its link to the
unsubscribe page in that language) follow it; a member with no known language gets the site's
default."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from freezegun import freeze_time

from cms.members.models import MemberProfile
from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.models import EmailTemplate, Journey
from tests.factories import PASSWORD, MemberFactory
from tests.journeys.helpers import MORNING, shopper, track

pytestmark = pytest.mark.django_db
AFTER_THE_WINDOW = datetime.timedelta(hours=2, minutes=1)


@pytest.fixture
def reminder_without_a_link() -> EmailTemplate:
    """The cart journey's template with no unsubscribe link of its own: the footer adds one."""
    Journey.objects.get(name="Cart abandonment")
    template = EmailTemplate.objects.get(name="Cart reminder")
    template.body_text = "{{ name }}, your cart is waiting."
    template.body_html = "<p>{{ name }}, your cart is waiting.</p>"
    template.save()
    return template


def abandon_a_cart(language: str | None) -> mail.EmailMessage:
    visitor = shopper()
    if language is not None:
        MemberProfile.objects.update_or_create(user=visitor.user, defaults={"language": language})
    with freeze_time(MORNING) as clock:
        track(visitor, "add_to_cart", sku="litter-7l", price=1800)
        clock.tick(AFTER_THE_WINDOW)
        journeys_evaluate()
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_a_japanese_member_gets_the_unsubscribe_line_and_page_in_japanese(
    client, reminder_without_a_link
):
    email = abandon_a_cart("ja")
    assert "配信停止はこちら：" in email.body and "Unsubscribe" not in email.body
    link = next(w for w in email.body.split() if "/unsubscribe/" in w)
    assert "/ja/personalization/unsubscribe/" in link
    html = email.alternatives[0][0]
    assert ">配信停止</a>" in html
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200 and "配信停止" in page.content.decode()


@pytest.mark.parametrize("language", ["en", None])
def test_an_english_member_or_one_of_unknown_language_gets_english(
    language, reminder_without_a_link
):
    email = abandon_a_cart(language)
    assert "Unsubscribe: http" in email.body
    link = next(w for w in email.body.split() if "/unsubscribe/" in w)
    assert "/ja/" not in link


def test_logging_in_on_the_japanese_site_remembers_japanese_and_on_the_english_one_english(
    client,
):
    member = MemberFactory(email="aoi@example.com", username="aoi@example.com")
    client.post("/ja/account/login/", {"username": member.email, "password": PASSWORD})
    assert MemberProfile.objects.get(user=member).language == "ja"
    client.logout()
    client.post("/account/login/", {"username": member.email, "password": PASSWORD})
    assert MemberProfile.objects.get(user=member).language == "en"


def test_signing_up_on_the_japanese_site_remembers_japanese(client):
    response = client.post(
        "/ja/account/signup/",
        {
            "name": "はる",
            "email": "haru@example.com",
            "password1": "a-long-passphrase-2026",
            "password2": "a-long-passphrase-2026",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert MemberProfile.objects.get(user__email="haru@example.com").language == "ja"


def test_a_staff_log_in_to_the_admin_is_not_a_site_language(client, admin_user):
    client.post("/admin/login/", {"username": admin_user.username, "password": "password"})
    assert not MemberProfile.objects.filter(user=admin_user).exclude(language="").exists()
