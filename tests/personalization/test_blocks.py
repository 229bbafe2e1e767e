"""Personalized blocks as members and visitors see them: the frequency-capped offer, the
greeting and the two-question profile form."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from personalization.events.models import Event, EventType
from personalization.models import Visitor
from tests.factories import MemberFactory
from tests.personalization.helpers import browse_as

pytestmark = pytest.mark.django_db
OFFER = 'data-offer="litter-free-shipping"'
FALLBACK = "Members save on litter every month."


def test_an_offer_shows_three_times_a_day_then_its_fallback(client, run_jobs):
    with run_jobs():
        for _ in range(3):
            html = client.get("/").content.decode()
            assert OFFER in html and FALLBACK not in html
    visitor = Visitor.objects.get(uuid=client.cookies["pv"].value.split(":")[0])
    assert Event.objects.filter(visitor=visitor, type=EventType.OFFER_IMPRESSION).count() == 3
    assert visitor.offer_impressions["litter-free-shipping"]["day_count"] == 3
    html = client.get("/").content.decode()
    assert OFFER not in html
    assert FALLBACK in html


def test_the_offer_cap_resets_the_next_day(client):
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    visitor = Visitor.objects.create(
        offer_impressions={
            "litter-free-shipping": {
                "day": yesterday,
                "day_count": 9,
                "week": "2000-W01",
                "week_count": 9,
            }
        }
    )
    browse_as(client, visitor)
    assert OFFER in client.get("/").content.decode()


def test_a_member_is_greeted_by_their_name_and_pet(client):
    member = MemberFactory(first_name="Sora")  # profile: dog
    client.force_login(member)
    html = client.get("/").content.decode()
    assert "Hello, Sora!" in html  # first visit; "welcome back" is for returning visitors
    assert "greeting-dog" in html
    assert "Tell us about your pet" not in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "pet": "dog"}, "Please tell us your name."),
        ({"name": "Mika", "pet": "dragon"}, "Select a valid choice"),
        ({"name": "<script>", "pet": "cat"}, "Names cannot contain"),
        ({"name": "x" * 61, "pet": "cat"}, "at most 60 characters"),
    ],
)
def test_bad_answers_to_the_profile_form_are_refused(client, form, message):
    response = client.post("/personalization/traits/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Visitor.objects.filter(traits__name=form["name"]).exists()


def test_the_profile_form_never_redirects_off_site(client):
    response = client.post(
        "/personalization/traits/", {"name": "Mika", "pet": "cat", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_profile_form_only_accepts_post(client):
    assert client.get("/personalization/traits/").status_code == 405
