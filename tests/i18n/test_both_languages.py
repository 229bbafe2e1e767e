"""Segments, experiments and journeys work the same on the English and the Japanese site, and in
the API asked for either language (?locale=ja, Accept-Language, a /ja/ path); the render cache
never serves one language's body for the other."""

from __future__ import annotations

import datetime

import pytest
from freezegun import freeze_time

from cms.api.render_cache import HEADER
from cms.models import ContentPage, HomePage
from experiments.models import Exposure
from personalization.journeys.engine import journeys_evaluate
from personalization.journeys.models import Journey, JourneyStatus, JourneyStep, StepAction
from personalization.models import Segment, Visitor
from tests.api.helpers import api_as, api_segments
from tests.experiments.variant_helpers import ab_block, make_experiment, marker, publish_body
from tests.journeys.helpers import MORNING, shopper, track
from tests.personalization.helpers import browse_as, chosen_segment

pytestmark = pytest.mark.django_db

# language: (the home page's address, the dog people's message on it)
HOMES = {
    "en": ("/", "Something for your dog"),
    "ja": ("/ja/", "わんちゃんのためのおすすめ"),
}
LANGUAGES = list(HOMES)


def dog_person() -> Visitor:
    return Visitor.objects.create(traits={"pet": "dog"})


def home_page(language: str) -> HomePage:
    return HomePage.objects.get(locale__language_code=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_segment_gets_its_variant_on_the_home_page(client, japanese_site, language):
    path, message = HOMES[language]
    dog_people = Segment.objects.get(slug="dog-people")
    browse_as(client, dog_person())
    body = client.get(path).content.decode()
    assert message in body
    assert chosen_segment(body) == str(dog_people.pk)
    other = HOMES["ja" if language == "en" else "en"][1]
    assert other not in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_segment_gets_its_variant_from_the_api(japanese_site, language):
    path, message = HOMES[language]
    dog_people = Segment.objects.get(slug="dog-people")
    client = api_as(dog_person().uuid)
    response = client.get("/api/v1/pages/find/", {"path": "/", "locale": language})
    assert response.status_code == 200
    assert response["Content-Language"] == language
    document = response.json()
    assert document["url"] == path
    assert str(dog_people.pk) in api_segments(document["body"])
    assert message in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_experiment_block_assigns_and_records_the_exposure(
    client, japanese_site, run_jobs, language
):
    experiment = make_experiment("tip-wording", ["control", "short"])
    experiment.start()
    page = ContentPage.objects.get(slug="litter-that-works", locale__language_code=language)
    publish_body(page, [ab_block("tip-wording", ["control", "short"]), *page.body.raw_data])
    visitor = Visitor.objects.create()
    browse_as(client, visitor)
    with run_jobs():
        body = client.get(page.url).content.decode()
    exposure = Exposure.objects.get(experiment=experiment)
    assert exposure.visitor == visitor
    assert marker("tip-wording", exposure.variant.name) in body
    assert page.url.startswith("/ja/") == (language == "ja")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_on_site_journey_message_shows_on_the_next_page_view(client, japanese_site, language):
    Journey.objects.update(status=JourneyStatus.PAUSED)
    journey = Journey.objects.create(
        name="Welcome", trigger="event", trigger_event="sign_up", status=JourneyStatus.ACTIVE
    )
    JourneyStep.objects.create(
        journey=journey,
        sort_order=0,
        action=StepAction.ON_SITE,
        message_title="Hi",
        message_text="ギフトのご用意ができました、{{ name }}さん。",
    )
    visitor = shopper()
    client.force_login(visitor.user)
    browse_as(client, visitor)
    path = HOMES[language][0]
    with freeze_time(MORNING) as clock:
        track(visitor, "sign_up")
        journeys_evaluate()
        clock.tick(datetime.timedelta(hours=1))
        first = client.get(path).content.decode()
        again = client.get(path).content.decode()
    assert "ギフトのご用意ができました、Mikaさん。" in first
    assert "ギフトのご用意ができました" not in again


def test_the_api_serves_the_translation_asked_for(japanese_site):
    english = ContentPage.objects.get(slug="litter-that-works", locale__language_code="en")
    client = api_as()
    asked = {
        "?locale=ja": client.get(f"/api/v1/pages/{english.pk}/", {"locale": "ja"}),
        "Accept-Language": client.get(
            f"/api/v1/pages/{english.pk}/", HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9,en;q=0.5"
        ),
        "a /ja/ path": client.get("/api/v1/pages/find/", {"path": "/ja/cats/litter-that-works/"}),
    }
    for how, response in asked.items():
        assert response.status_code == 200, how
        assert response.json()["title"] == "失敗しない猫砂選び", how
        assert response.json()["url"] == "/ja/cats/litter-that-works/", how
        assert response["Content-Language"] == "ja", how
        assert "Accept-Language" in response["Vary"], how
    japanese = asked["?locale=ja"].json()["id"]
    back = client.get(f"/api/v1/pages/{japanese}/", {"locale": "en"})
    assert back.json()["title"] == "Litter that works"
    plain = client.get(f"/api/v1/pages/{english.pk}/")
    assert plain.json()["title"] == "Litter that works"


def test_the_api_lists_the_pages_of_the_language_asked_for(japanese_site):
    client = api_as()
    japanese = client.get("/api/v1/pages/", {"section": "cats", "locale": "ja"}).json()
    english = client.get("/api/v1/pages/", {"section": "cats"}).json()
    assert "失敗しない猫砂選び" in [page["title"] for page in japanese["results"]]
    assert all(page["url"].startswith("/ja/") for page in japanese["results"])
    assert "Litter that works" in [page["title"] for page in english["results"]]
    assert not any(page["url"].startswith("/ja/") for page in english["results"])


@pytest.mark.parametrize("value", ["xx", "", "ja-" + "x" * 300, "日本語"])
def test_an_unknown_locale_is_a_400_naming_the_parameter(japanese_site, value):
    response = api_as().get("/api/v1/pages/find/", {"path": "/", "locale": value})
    assert response.status_code == 400
    assert "locale" in response.json()


def test_an_odd_accept_language_is_ignored_not_an_error(japanese_site):
    for header in ("*", "zz-ZZ", "ja;q=abc", "x" * 600, ",,,"):
        response = api_as().get("/api/v1/pages/find/", {"path": "/"}, HTTP_ACCEPT_LANGUAGE=header)
        assert response.status_code == 200, header


def test_the_render_cache_keeps_the_two_languages_apart(japanese_site):
    english = ContentPage.objects.get(slug="litter-that-works", locale__language_code="en")
    client = api_as()
    url = f"/api/v1/pages/{english.pk}/"
    first_en, first_ja = client.get(url), client.get(url, {"locale": "ja"})
    assert (first_en[HEADER], first_ja[HEADER]) == ("miss", "miss")
    again_en, again_ja = client.get(url), client.get(url, {"locale": "ja"})
    assert (again_en[HEADER], again_ja[HEADER]) == ("hit", "hit")
    assert again_en.json()["title"] == "Litter that works"
    assert again_ja.json()["title"] == "失敗しない猫砂選び"


def test_site_pages_in_both_languages_are_cached_apart(client, japanese_site):
    responses = {
        path: [client.get(path), client.get(path)]
        for path in ("/cats/litter-that-works/", "/ja/cats/litter-that-works/")
    }
    for path, (first, second) in responses.items():
        assert first["X-Render-Cache"] == "miss", path
        assert second["X-Render-Cache"] == "hit", path
    english = responses["/cats/litter-that-works/"][1].content.decode()
    japanese = responses["/ja/cats/litter-that-works/"][1].content.decode()
    assert "Litter that works" in english and "失敗しない猫砂選び" not in english
    assert "失敗しない猫砂選び" in japanese and "<h1>Litter that works</h1>" not in japanese
