"""Headless preview: an editor mints a short-lived token; the frontend renders the latest draft as
the chosen segments see it; nothing is recorded; forged, expired or out-of-reach tokens fail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from freezegun import freeze_time
from rest_framework.test import APIClient

from cms.models import ContentPage, HomePage
from experiments.models import Exposure
from personalization.events.models import Event
from personalization.models import Segment
from tests.api.helpers import api_as, api_segments

pytestmark = pytest.mark.django_db


def mint(editor, page, segments=()) -> dict:
    response = api_as(user=editor).post(
        "/api/v1/preview-tokens/", {"page": page.pk, "segments": list(segments)}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def preview(token: str):
    return APIClient().get("/api/v1/pages/preview/", {"token": token})


def test_a_preview_shows_the_latest_draft_to_the_token_holder(staff):
    article = ContentPage.objects.get(slug="litter-that-works")
    draft = article.get_latest_revision_as_object()
    draft.body = [("paragraph", "<p>Draft: silica is back in stock.</p>")]
    draft.save_revision()
    minted = mint(staff, article)
    assert minted["url"].startswith("http://testserver/api/v1/pages/preview/?token=")
    response = preview(minted["token"])
    assert response.status_code == 200
    assert response.json()["body"][0]["value"] == "<p>Draft: silica is back in stock.</p>"
    assert response.json()["meta"]["preview"] is True
    assert "no-store" in response["Cache-Control"]
    live = APIClient().get(f"/api/v1/pages/{article.pk}/").json()
    assert "silica" not in str(live["body"])


def test_a_preview_as_segments_chooses_their_content_highest_priority_first(staff):
    home = HomePage.objects.get()
    dog_people = Segment.objects.get(slug="dog-people")
    newsletter = Segment.objects.get(slug="newsletter-readers")
    as_dog_people = preview(mint(staff, home, [dog_people.pk])["token"]).json()
    assert api_segments(as_dog_people["body"]) == [str(dog_people.pk)]
    combined = preview(mint(staff, home, [dog_people.pk, newsletter.pk])["token"]).json()
    assert api_segments(combined["body"]) == [str(newsletter.pk)]
    default = preview(mint(staff, home)["token"]).json()
    assert api_segments(default["body"]) == ["default"]


def test_a_preview_records_no_exposure_and_no_offer_impression(staff, run_jobs):
    token = mint(staff, HomePage.objects.get())["token"]
    with run_jobs():
        assert preview(token).status_code == 200
    assert not Exposure.objects.exists()
    assert not Event.objects.filter(type="offer_impression").exists()


@pytest.mark.parametrize("token", ["forged", "eyJwIjozfQ:1abc:forged-signature", "x" * 1024])
def test_a_forged_preview_token_is_401(token):
    response = preview(token)
    assert response.status_code == 401
    assert "preview token" in response.json()["detail"]


def test_a_preview_token_expires(staff, settings):
    settings.API_PREVIEW_TOKEN_AGE = 600
    with freeze_time("2026-03-01 09:00:00"):
        token = mint(staff, HomePage.objects.get())["token"]
    with freeze_time("2026-03-01 09:10:30"):
        response = preview(token)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_token_stops_working_when_its_editor_loses_access(staff):
    editor = get_user_model().objects.create_user("ed", "ed@example.com", "pw", is_staff=True,
                                                  is_superuser=True)  # fmt: skip
    token = mint(editor, HomePage.objects.get())["token"]
    editor.is_active = False
    editor.save()
    assert preview(token).status_code == 401


def test_a_missing_token_is_400_naming_it():
    response = APIClient().get("/api/v1/pages/preview/")
    assert response.status_code == 400 and "token" in response.json()


def test_staff_without_edit_rights_or_unknown_segments_get_400(staff):
    viewer = get_user_model().objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    home = HomePage.objects.get()
    response = api_as(user=viewer).post("/api/v1/preview-tokens/", {"page": home.pk}, format="json")
    assert response.status_code == 400 and "page" in response.json()
    unknown = api_as(user=staff).post(
        "/api/v1/preview-tokens/", {"page": home.pk, "segments": [999999]}, format="json"
    )
    assert unknown.status_code == 400 and "segments" in unknown.json()
    too_many = api_as(user=staff).post(
        "/api/v1/preview-tokens/", {"page": home.pk, "segments": list(range(1, 30))}, format="json"
    )
    assert too_many.status_code == 400 and "segments" in too_many.json()
