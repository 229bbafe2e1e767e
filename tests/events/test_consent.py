"""Consent: the site's banner (Accept all / Only necessary / choose), stored through a CSRF-
protected POST in the database and a signed cookie; with analytics withheld page views are not
stored, with personalization withheld the visitor sees default content; a member's choice
follows them to other devices."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from personalization.consent import (
    CONSENT_COOKIE,
    consent_for,
    consent_unsubscribe,
    consent_update,
)
from personalization.events.models import Event
from personalization.models import Consent
from tests.factories import PASSWORD, MemberFactory
from tests.personalization.helpers import chosen_segment, signed_visitor_cookie

pytestmark = pytest.mark.django_db
BANNER = 'class="consent-banner"'


def choose(client, **form):
    return client.post("/personalization/consent/", {"next": "/dogs/", **form})


def test_the_banner_shows_until_the_visitor_chooses(client):
    assert BANNER in client.get("/").content.decode()
    response = choose(client, choice="all")
    assert response.status_code == 302 and response["Location"] == "/dogs/"
    assert BANNER not in client.get("/").content.decode()
    assert Consent.objects.filter(user=None).get().choices == dict.fromkeys(
        ("analytics", "personalization", "marketing"), True
    )


def test_only_necessary_stores_no_page_views_and_shows_default_content(client, run_jobs):
    client.post("/personalization/traits/", {"name": "Mika", "pet": "dog", "next": "/"})
    assert chosen_segment(client.get("/").content.decode()) != "default"
    choose(client, choice="necessary")
    with run_jobs():
        html = client.get("/").content.decode()
    assert chosen_segment(html) == "default"  # personalization withheld
    assert "Welcome back, Mika!" not in html
    assert not Event.objects.filter(type="page_view").exists()  # analytics withheld
    record = Consent.objects.filter(user=None).get()
    assert record.choices == {"analytics": False, "personalization": False, "marketing": False}


def test_a_visitor_may_choose_purpose_by_purpose(client, run_jobs):
    choose(client, choice="custom", personalization="on", marketing="on")
    assert Consent.objects.filter(user=None).get().choices == {
        "analytics": False,
        "personalization": True,
        "marketing": True,
    }
    with run_jobs():
        client.get("/dogs/")
    assert not Event.objects.filter(type="page_view").exists()


def test_the_choice_needs_the_sites_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert choose(client, choice="all").status_code == 403
    assert not Consent.objects.filter(user=None).exists()


def test_a_tampered_consent_cookie_is_ignored(client):
    client.cookies[CONSENT_COOKIE] = "a0p0m1"  # unsigned
    assert BANNER in client.get("/").content.decode()


def test_a_members_choice_follows_them_to_another_device(client):
    member = MemberFactory()
    client.force_login(member)
    choose(client, choice="necessary")
    assert Consent.objects.get(user=member).analytics is False
    other_device = Client()
    assert BANNER in other_device.get("/").content.decode()
    logged_in = other_device.post(
        "/account/login/", {"username": member.email, "password": PASSWORD}
    )
    assert logged_in.status_code == 302
    assert BANNER not in other_device.get("/").content.decode()
    assert consent_for(visitor_uuid=None, user=member)["analytics"] is False


def test_consent_services_for_the_api():
    visitor = uuid.uuid4()
    assert consent_for(visitor_uuid=visitor, user=None) == {
        "analytics": True,
        "personalization": True,
        "marketing": False,
    }
    assert consent_update(visitor_uuid=visitor, user=None, marketing=True)["marketing"] is True
    assert consent_for(visitor_uuid=visitor, user=None)["marketing"] is True
    with pytest.raises(ValueError, match="Unknown consent purposes"):
        consent_update(visitor_uuid=visitor, user=None, newsletters=True)


def test_every_page_links_to_the_privacy_choices_where_the_choice_can_be_changed(client):
    choose(client, choice="all")
    footer = client.get("/").content.decode()
    assert 'href="/personalization/consent/">Privacy choices</a>' in footer
    page = client.get("/personalization/consent/").content.decode()
    assert 'name="marketing" checked' in page and BANNER not in page
    saved = client.post(
        "/personalization/consent/",
        {"choice": "custom", "personalization": "on", "next": "/personalization/consent/?saved=1"},
    )
    assert saved["Location"] == "/personalization/consent/?saved=1"
    page = client.get(saved["Location"]).content.decode()
    assert "Your choices are saved." in page
    assert 'name="marketing" checked' not in page and 'name="personalization" checked' in page
    assert Consent.objects.filter(user=None).get().choices == {
        "analytics": False,
        "personalization": True,
        "marketing": False,
    }


def test_a_visitor_who_unsubscribed_can_opt_in_again_on_the_privacy_page(client):
    visitor = uuid.uuid4()
    consent_update(visitor_uuid=visitor, user=None, marketing=True)
    consent_unsubscribe(visitor_uuid=visitor, user_id=None)
    assert consent_for(visitor_uuid=visitor, user=None)["marketing"] is False
    client.cookies["pv"] = signed_visitor_cookie(visitor)
    client.post("/personalization/consent/", {"choice": "all"})
    record = Consent.objects.get(visitor_uuid=visitor)
    assert record.marketing is True and record.unsubscribed_at is None


def test_an_unsubscribe_link_works_even_when_a_member_now_keeps_the_record():
    member = MemberFactory()
    visitor = uuid.uuid4()
    Consent.objects.create(visitor_uuid=visitor, user=member, marketing=True)
    consent_unsubscribe(visitor_uuid=visitor, user_id=None)
    record = Consent.objects.get(user=member)
    assert record.marketing is False and record.unsubscribed_at is not None
